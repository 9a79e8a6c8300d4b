#!/usr/bin/python3
"""report.html in a real browser: `hiper report` on a run directory made here (metrics of 12 steps with
task types, learning rates, gradient norms, response lengths and phase timings; both evaluations; a
run configuration), then headless Chromium loads the page (no network) and its DOM is dumped: no script
error, every planned chart drawn, each expected chart present, smoothing on too. The tables and the
offline promise are checked on the file itself.

With "overlay" (`hiper report DIR... --out PAGE`): four runs of two methods (two seeds each, one stopped
early), labelled by their configuration's estimator and by LABEL=DIR; the page's tables (each run's
evaluation, the mean ± sd per method), and in Chromium every chart drawn, one thin line per run and one
thick line per method, each mean point the average of its runs' points at that step.

  report_browser.py HIPER CHROMIUM WORKDIR [overlay]
"""
import json, math, os, re, shutil, subprocess, sys

TYPES = ["pick", "clean", "heat", "cool", "look", "pick2"]
CHARTS = ["Success rate", "Validation success per task type", "Training success per task type", "Learning rate",
          "Actor gradient norm (before clipping)", "Critic gradient norm (before clipping)",
          "Response length (tokens per turn)", "Time per step by phase (s)", "Value loss per head"]


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def make_run(d):
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    rows = []
    for s in range(0, 13):
        if s % 4 == 0:
            r = {"kind": "val", "step": s, "val_success": 0.2 + 0.04 * s, "val_score": 0.2 + 0.04 * s,
                 "val_turns": 20 - s * 0.5, "val_invalid_rate": 0.1, "t_val": 3.5}
            for i, t in enumerate(TYPES):
                r["val_success_" + t] = min(1.0, 0.1 * i + 0.05 * s)
            rows.append(r)
        if s == 0:
            continue
        r = {"kind": "train", "step": s, "success": 0.3 + 0.02 * s + 0.05 * math.sin(s), "reward": 3 + 0.2 * s,
             "pg_loss": 0.01 * math.cos(s), "kl": 1e-3 * s, "entropy": 1.2 - 0.03 * s, "clipfrac": 0.01,
             "clipfrac_lower": 0.0, "vf_loss_low": 0.5 / s, "vf_loss_high": 0.7 / s, "vf_loss_term": 0.9 / s,
             "explained_var_low": 0.1 * s / 12, "actor_grad_norm": 0.3 + 0.01 * s, "critic_grad_norm": 20 - s,
             "actor_lr": 1e-4, "critic_lr": 1e-3, "response_length": 30 + s, "switch_rate": 0.4,
             "invalid_rate": 0.05, "mean_turns": 14, "tokens_per_s": 900 + 10 * s, "t_rollout": 30 + s,
             "t_score": 4.0, "t_adv": 0.1, "t_critic": 8.0, "t_actor": 12.0 + 0.5 * s, "t_step": 55 + 1.5 * s}
        for i, t in enumerate(TYPES[:4]):
            r["success_" + t] = min(1.0, 0.2 * i + 0.03 * s)
        rows.append(r)
    with open(os.path.join(d, "metrics.jsonl"), "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
        f.write('{"kind": "train", "st')  # a torn last line, as a killed run leaves it
    def ev(won, n):
        types = {t: {"episodes": 10, "won": (won + i) % 11, "success": ((won + i) % 11) / 10, "success_lo95": 0.01,
                     "success_hi95": 0.99} for i, t in enumerate(TYPES)}
        return {"episodes": n, "won": won, "success": won / n, "success_lo95": won / n - 0.05123,
                "success_hi95": won / n + 0.05456, "types": types}
    json.dump({"valid_seen": ev(48, 140), "valid_unseen": ev(53, 134)}, open(os.path.join(d, "eval_before.json"), "w"))
    json.dump({"valid_seen": ev(70, 140), "valid_unseen": ev(66, 134)}, open(os.path.join(d, "eval_after.json"), "w"))
    json.dump({"description": "a <test> run & more", "actor.optim.lr": 0.000123456789, "algorithm.gamma": 0.95,
               "sft.enable": True, "trainer.total_steps": 12, "trainer.project_name": "hiper",
               "trainer.experiment_name": "browser_check_run"}, open(os.path.join(d, "run_config.json"), "w"))


def main(hiper, chromium, work):
    d = os.path.join(work, "report_browser")
    make_run(d)
    p = subprocess.run([hiper, "report", d], capture_output=True, text=True)
    if p.returncode != 0:
        fail(f"hiper report exited {p.returncode}: {p.stderr}")
    page = os.path.join(d, "report.html")
    html = open(page).read()
    # offline: no external resource of any kind (the SVG namespace is a name, not a fetch)
    for pat in (r"<link\b", r"\bsrc\s*=\s*[\"']", r"@import", r"url\(", r"fetch\(", r"XMLHttpRequest"):
        if re.search(pat, html):
            fail(f"report.html refers to something outside it ({pat})")
    if len(re.findall(r"https?://", html)) != html.count("http://www.w3.org/2000/svg"):
        fail("report.html names an address other than the SVG namespace")
    # title, tables with rounded numbers, escaped text
    for want in ("<title>browser_check_run — hiper report</title>", "<h1>browser_check_run</h1>",
                 "<caption>valid_seen</caption>", "34.3% <span class='ci'>[29.2, 39.7]</span>",
                 "50.0% <span class='ci'>[44.9, 55.5]</span>", "+15.7 points", "<td>actor.optim.lr</td><td>1.235e-04</td>",
                 "<td>algorithm.gamma</td><td>0.95</td>", "a &lt;test&gt; run &amp; more", "12 training steps and 4 validations"):
        if want not in html:
            fail(f"report.html lacks {want!r}")
    if not chromium:
        print("SKIPPED the browser part: chromium is absent (scripts/deps.sh test installs it)")
        return
    for smooth in ("", "#smooth=0.6"):
        args = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
                "--disable-background-networking", "--virtual-time-budget=5000", "--dump-dom", "file://" + page + smooth]
        p = subprocess.run(args, capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            fail(f"chromium exited {p.returncode}: {p.stderr[-800:]}")
        dom = p.stdout
        m = re.search(r"<body[^>]*>", dom)
        if not m:
            fail("no <body> in the dumped DOM")
        attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', m.group(0)))
        if attrs.get("data-script-errors") != "0":
            fail(f"script errors: {attrs.get('data-script-errors')} (body {m.group(0)})")
        planned, drawn = attrs.get("data-charts"), attrs.get("data-charts-drawn")
        if not planned or planned != drawn or int(planned) < len(CHARTS):
            fail(f"charts planned {planned}, drawn {drawn}")
        titles = re.findall(r'<svg[^>]*data-title="([^"]*)"', dom)
        if len(titles) != int(planned):
            fail(f"{len(titles)} chart elements for {planned} planned")
        for t in CHARTS:
            if t not in titles:
                fail(f"no chart '{t}' (charts: {titles})")
        if dom.count("<polyline") < 10 or dom.count("<polygon") != 5 or dom.count('class="grid"') < 50:
            fail("charts without lines, stacked areas or grid")
        print(f"chromium{smooth or ''}: {drawn} charts drawn, no script error")
    print("report in the browser: ok")


def make_overlay_runs(work):
    dirs = []
    for est, seed, steps, won in (("hae", 1, 12, 70), ("hae", 2, 12, 60), ("grpo", 1, 12, 50), ("grpo", 2, 8, 40)):
        d = os.path.join(work, f"{est}_s{seed}")
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        with open(os.path.join(d, "metrics.jsonl"), "w") as f:
            for s in range(0, steps + 1):
                if s % 4 == 0:
                    f.write(json.dumps({"kind": "val", "step": s, "val_success": 0.1 * seed + 0.02 * s,
                                        "val_success_pick": 0.3 + 0.01 * s}) + "\n")
                if s:
                    f.write(json.dumps({"kind": "train", "step": s, "success": 0.2 + 0.03 * s * seed + (0.1 if est == "hae" else 0),
                                        "reward": s * 0.5, "kl": 1e-3 * s, "invalid_rate": 0.01 * seed,
                                        "t_step": 30 + s}) + "\n")
        json.dump({"algorithm.adv_estimator": est, "trainer.seed": seed, "trainer.experiment_name": f"{est}-s{seed}"},
                  open(os.path.join(d, "run_config.json"), "w"))
        json.dump({"valid_seen": {"episodes": 140, "won": won, "success": won / 140, "success_lo95": 0.1,
                                  "success_hi95": 0.9, "types": {}}},
                  open(os.path.join(d, "eval_after.json"), "w"))
        dirs.append(d)
    return dirs


def polyline_points(svg, cls):
    out = []
    for m in re.finditer(r'<polyline[^>]*>', svg):
        tag = m.group(0)
        if f'class="{cls}"' not in tag:
            continue
        stroke = re.search(r'stroke="([^"]*)"', tag).group(1)
        pts = [tuple(map(float, p.split(","))) for p in re.search(r'points="([^"]*)"', tag).group(1).split()]
        out.append((stroke, pts))
    return out


def overlay(hiper, chromium, work):
    d = os.path.join(work, "report_overlay")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    dirs = make_overlay_runs(d)
    page = os.path.join(d, "page.html")
    p = subprocess.run([hiper, "report", dirs[0], dirs[1]], capture_output=True, text=True)
    if p.returncode != 2 or "--out" not in p.stderr:
        fail(f"several runs without --out: exit {p.returncode}, {p.stderr!r}")
    # the first two by their estimator (hae), the others named GRPO by LABEL=DIR
    args = [hiper, "report", dirs[0], dirs[1], "GRPO=" + dirs[2], "GRPO=" + dirs[3], "--out", page, "--title", "a <b> study"]
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode != 0:
        fail(f"hiper report --out exited {p.returncode}: {p.stderr}")
    html = open(page).read()
    for pat in (r"<link\b", r"\bsrc\s*=\s*[\"']", r"@import", r"url\(", r"fetch\("):
        if re.search(pat, html):
            fail(f"the overlay page refers to something outside it ({pat})")
    for want in ("<h1>a &lt;b&gt; study</h1>", "4 runs in 2 groups", "<td>hae</td><td>1</td>", "<td>GRPO</td><td>2</td>",
                 "<td>50.0% <span class='ci'>[10.0, 90.0]</span> <span class='n'>(70/140)</span></td>",
                 # hae: 70/140 and 60/140 -> 46.4 ± 5.1; GRPO: 50 and 40 -> 32.1 ± 5.1
                 "<td>46.4 ± 5.1% <span class='n'>(2 runs)</span></td>", "<td>32.1 ± 5.1% <span class='n'>(2 runs)</span></td>"):
        if want not in html:
            fail(f"the overlay page lacks {want!r}")
    # one run alone with --out: an overlay page of one run, the run's own report untouched
    one = os.path.join(d, "one.html")
    p = subprocess.run([hiper, "report", dirs[0], "--out", one], capture_output=True, text=True)
    if p.returncode != 0 or "1 runs in 1 groups" not in open(one).read() or os.path.exists(os.path.join(dirs[0], "report.html")):
        fail(f"one run with --out: exit {p.returncode} {p.stderr}")
    if not chromium:
        print("SKIPPED the browser part: chromium is absent (scripts/deps.sh test installs it)")
        return
    for smooth in ("", "#smooth=0.6"):
        args = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
                "--disable-background-networking", "--virtual-time-budget=5000", "--dump-dom", "file://" + page + smooth]
        p = subprocess.run(args, capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            fail(f"chromium exited {p.returncode}: {p.stderr[-800:]}")
        dom = p.stdout
        attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', re.search(r"<body[^>]*>", dom).group(0)))
        if attrs.get("data-script-errors") != "0":
            fail(f"script errors: {attrs}")
        if attrs.get("data-runs") != "4" or attrs.get("data-labels") != "2":
            fail(f"runs/labels: {attrs}")
        planned, drawn = attrs.get("data-charts"), attrs.get("data-charts-drawn")
        svgs = {m.group(1): m.group(0) for m in re.finditer(r'<svg[^>]*data-title="([^"]*)".*?</svg>', dom, re.S)}
        for t in ("Training success", "Validation success", "Validation success: pick", "KL to the reference policy",
                  "Invalid-action rate", "Seconds per step"):
            if t not in svgs:
                fail(f"no chart '{t}' (charts: {list(svgs)})")
        if not planned or planned != drawn or int(planned) != len(svgs):
            fail(f"charts planned {planned}, drawn {drawn}, present {len(svgs)}")
        svg = svgs["Training success"]
        runs, means = polyline_points(svg, "run"), polyline_points(svg, "mean")
        if len(runs) != 4 or len(means) != 2 or len({c for c, _ in means}) != 2:
            fail(f"Training success: {len(runs)} run lines and {len(means)} mean lines")
        # every mean point is the average of its colour's run points at that x (pixels are linear in the value)
        for colour, pts in means:
            mine = [r for c, r in runs if c == colour]
            if len(mine) != 2:
                fail(f"{len(mine)} runs in colour {colour}")
            for x, y in pts:
                ys = [ry for r in mine for rx, ry in r if abs(rx - x) < 0.01]
                if not ys or abs(sum(ys) / len(ys) - y) > 0.11:
                    fail(f"mean point ({x}, {y}) against its runs' {ys}")
        # the run stopped at step 8: the GRPO mean covers 12 steps, the last 4 from one run
        grpo = [pts for c, pts in means if c != means[0][0]][0]
        if len(grpo) != 12:
            fail(f"the GRPO mean has {len(grpo)} points, 12 expected")
        print(f"chromium{smooth or ''}: {drawn} overlay charts drawn, runs and means consistent")
    print("overlay report: ok")


if __name__ == "__main__":
    if len(sys.argv) > 4 and sys.argv[4] == "overlay":
        overlay(sys.argv[1], sys.argv[2] if sys.argv[2] != "-" else "", sys.argv[3])
    else:
        main(sys.argv[1], sys.argv[2] if sys.argv[2] != "-" else "", sys.argv[3])
