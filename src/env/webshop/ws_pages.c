/* WebShop's pages in text mode (spec §5): visible text nodes joined by " [SEP] ", with the clickable
 * keys of each page (§6.1), and verl-agent's quoted form of the observation (§8.3). */
#include "env/webshop/ws.h"

#include <stdlib.h>
#include <string.h>

void ws_pv_reset(ws_pv *pv) {
    hp_buf_clear(&pv->raw);
    hp_buf_putc(&pv->raw, 0), pv->raw.len = 0;
    for (int i = 0; i < pv->n_click; i++) free(pv->click[i]);
    pv->n_click = 0;
    pv->n_items = 0;
    pv->search_bar = false;
}

void ws_pv_free(ws_pv *pv) {
    ws_pv_reset(pv);
    free(pv->click);
    hp_buf_free(&pv->raw);
    memset(pv, 0, sizeof *pv);
}

/* One text node: "" is no node, whitespace with a newline is dropped, otherwise stripped. */
static void ws_node(ws_pv *pv, const char *s) {
    if (!*s) return;
    size_t len;
    const char *t = ws_strip(s, &len);
    if (!len && strchr(s, '\n')) return;
    if (pv->n_items++) hp_buf_puts(&pv->raw, " [SEP] ");
    hp_buf_append(&pv->raw, t, len);
    hp_buf_putc(&pv->raw, 0), pv->raw.len--;
}

/* A clickable key; duplicates keep their first position. */
static void ws_click(ws_pv *pv, const char *key) {
    for (int i = 0; i < pv->n_click; i++)
        if (!strcmp(pv->click[i], key)) return;
    if (pv->n_click == pv->cap_click) pv->click = hp_xrealloc(pv->click, (size_t)(pv->cap_click = pv->cap_click ? pv->cap_click * 2 : 16) * sizeof(char *));
    pv->click[pv->n_click++] = ws_lower(key);
}

static void ws_header(ws_pv *pv, const char *instr) {
    ws_node(pv, "Instruction:");
    ws_node(pv, instr);
    ws_node(pv, "Back to Search");
    ws_click(pv, "back to search");
}

void ws_page_search(ws_pv *pv, const char *instr) {
    ws_pv_reset(pv);
    ws_node(pv, "WebShop");
    ws_node(pv, "Instruction:");
    ws_node(pv, instr);
    ws_node(pv, "Search");
    ws_click(pv, "search");
    pv->search_bar = true;
}

void ws_page_results(ws_pv *pv, const ws_world *w, const char *instr, int page_no, int total, const int *prods, int n) {
    ws_pv_reset(pv);
    ws_header(pv, instr);
    char buf[96];
    snprintf(buf, sizeof buf, "Page %d (Total results: %d)", page_no, total);
    ws_node(pv, buf);
    if (page_no > 1) {
        ws_node(pv, "< Prev");
        ws_click(pv, "< prev");
    }
    ws_node(pv, "Next >");
    ws_click(pv, "next >");
    for (int i = 0; i < n; i++) {
        const ws_product *p = &w->products[prods[i]];
        ws_node(pv, p->asin);
        ws_node(pv, p->title);
        ws_node(pv, p->price_tag);
        ws_click(pv, p->asin);
    }
}

void ws_page_item(ws_pv *pv, const ws_world *w, const char *instr, int product, bool show_attrs) {
    const ws_product *p = &w->products[product];
    ws_pv_reset(pv);
    ws_header(pv, instr);
    ws_node(pv, "< Prev");
    ws_click(pv, "< prev");
    hp_buf b = {0};
    for (int o = 0; o < p->n_options; o++) {
        ws_node(pv, p->options[o].name);
        for (int v = 0; v < p->options[o].n_values; v++) ws_node(pv, p->options[o].values[v]);
    }
    ws_node(pv, p->title);
    hp_buf_printf(&b, "Price: %s", p->price_tag);
    ws_node(pv, b.data);
    hp_buf_free(&b);
    ws_node(pv, "Rating: N.A.");
    ws_node(pv, "Description");
    ws_node(pv, "Features");
    ws_node(pv, "Reviews");
    if (show_attrs) ws_node(pv, "Attributes");
    ws_node(pv, "Buy Now");
    ws_click(pv, "description");
    ws_click(pv, "features");
    ws_click(pv, "reviews");
    if (show_attrs) ws_click(pv, "attributes");
    ws_click(pv, "buy now");
    for (int o = 0; o < p->n_options; o++)
        for (int v = 0; v < p->options[o].n_values; v++) ws_click(pv, p->options[o].values[v]);
}

void ws_page_sub(ws_pv *pv, const ws_world *w, const char *instr, int product, ws_page kind) {
    const ws_product *p = &w->products[product];
    ws_pv_reset(pv);
    ws_header(pv, instr);
    ws_node(pv, "< Prev");
    ws_click(pv, "< prev");
    hp_buf b = {0};
    if (kind == WS_DESC) {
        ws_node(pv, p->desc);
    } else if (kind == WS_FEAT) {
        for (int i = 0; i < p->n_bullets; i++) { /* the template puts a space before each bullet */
            hp_buf_clear(&b);
            hp_buf_printf(&b, " %s", p->bullets[i]);
            ws_node(pv, b.data);
        }
    } else if (kind == WS_ATTRS) {
        for (int i = 0; i < p->n_attrs; i++) ws_node(pv, p->attrs[i]);
        ws_node(pv, p->category);
        ws_node(pv, p->query);
        ws_node(pv, p->product_category);
    }
    hp_buf_free(&b);
}

/* json.dumps of a string (ensure_ascii). */
static void ws_json_string(hp_buf *b, const char *s) {
    hp_buf_putc(b, '"');
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        uint32_t c = *p;
        int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
        if (n > 1) {
            c &= 0x3Fu >> (n - 1);
            for (int k = 1; k < n; k++) {
                if ((p[k] & 0xC0) != 0x80) {
                    n = 1, c = 0xFFFD;
                    break;
                }
                c = (c << 6) | (p[k] & 0x3F);
            }
        }
        p += n;
        if (c == '"') hp_buf_puts(b, "\\\"");
        else if (c == '\\') hp_buf_puts(b, "\\\\");
        else if (c == '\n') hp_buf_puts(b, "\\n");
        else if (c == '\t') hp_buf_puts(b, "\\t");
        else if (c == '\r') hp_buf_puts(b, "\\r");
        else if (c < 0x20 || c >= 0x7F) {
            if (c > 0xFFFF) {
                c -= 0x10000;
                hp_buf_printf(b, "\\u%04x\\u%04x", 0xD800 + (c >> 10), 0xDC00 + (c & 0x3FF));
            } else {
                hp_buf_printf(b, "\\u%04x", c);
            }
        } else hp_buf_putc(b, (char)c);
    }
    hp_buf_putc(b, '"');
}

void ws_page_done(ws_pv *pv, const ws_world *w, int product, const int *chosen, const int *order, int n_order, double reward) {
    static const char *const head[] = {"Thank you for shopping with us!", "Your code:", "None",
                                       "(Paste it in your MTurk interface.)", "Purchased", "asin"};
    static const char *const tail[] = {"attrs", "None", "category", "None", "query", "None", "product category", "None",
                                       "Target", "asin", "options", "attrs", "price upper", "instuction text", "category",
                                       "product category", "query", "Goal", "None", "Reward",
                                       "Your score (min 0.0, max 1.0)"};
    const ws_product *p = &w->products[product];
    ws_pv_reset(pv);
    for (size_t i = 0; i < sizeof head / sizeof *head; i++) ws_node(pv, head[i]);
    ws_node(pv, p->asin);
    ws_node(pv, "options");
    hp_buf b = {0};
    hp_buf_putc(&b, '{');
    for (int i = 0; i < n_order; i++) {
        int o = order[i];
        if (i) hp_buf_puts(&b, ", ");
        ws_json_string(&b, p->options[o].name);
        hp_buf_puts(&b, ": ");
        ws_json_string(&b, p->options[o].values[chosen[o]]);
    }
    hp_buf_putc(&b, '}');
    ws_node(pv, b.data);
    for (size_t i = 0; i < sizeof tail / sizeof *tail; i++) ws_node(pv, tail[i]);
    char num[40];
    ws_py_float(reward, num, sizeof num);
    ws_node(pv, num);
    ws_node(pv, "Reward Details");
    ws_node(pv, "None");
    hp_buf_free(&b);
}

void ws_agent_observation(const char *raw, const char *instr, hp_buf *out) {
    static const char sep[] = " [SEP] ";
    hp_buf_clear(out);
    const char *s = raw, *after = NULL;
    size_t il = strlen(instr);
    for (;;) {
        const char *e = strstr(s, sep);
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len == il && !memcmp(s, instr, il)) {
            after = e ? e + 7 : NULL;
            if (!e) after = s + len; /* instruction is the last item: nothing follows */
            break;
        }
        if (!e) break;
        s = e + 7;
    }
    if (!after) {
        hp_buf_puts(out, raw);
        return;
    }
    bool first = true;
    while (*after) {
        const char *e = strstr(after, sep);
        size_t len = e ? (size_t)(e - after) : strlen(after);
        if (!first) hp_buf_puts(out, sep);
        hp_buf_putc(out, '\'');
        hp_buf_append(out, after, len);
        hp_buf_putc(out, '\'');
        first = false;
        if (!e) break;
        after = e + 7;
    }
    hp_buf_putc(out, 0), out->len--;
}
