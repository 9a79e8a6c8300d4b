/* The Qwen2.5-Instruct chat template (without tools), rendered directly:
 *   - a first "system" message becomes the header; otherwise the default system message is used;
 *   - "user" messages, "assistant" messages and later "system" messages render as
 *     <|im_start|>ROLE\nCONTENT<|im_end|>\n;
 *   - "tool" messages are wrapped in <tool_response> blocks inside one user turn per run of them;
 *   - other roles render nothing (as the template does);
 *   - add_generation_prompt appends <|im_start|>assistant\n. */
#include "hiper/tok.h"

#include <string.h>

static const char *const default_system = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";

static bool is_role(const hp_chat_msg *m, const char *role) { return m->role && !strcmp(m->role, role); }

static void turn(hp_buf *b, const char *role, const char *content) {
    hp_buf_puts(b, "<|im_start|>");
    hp_buf_puts(b, role);
    hp_buf_putc(b, '\n');
    hp_buf_puts(b, content ? content : "");
    hp_buf_puts(b, "<|im_end|>\n");
}

char *hp_chat_render(const hp_chat_msg *msgs, int n, bool add_generation_prompt) {
    hp_buf b = {0};
    bool first_system = n > 0 && is_role(&msgs[0], "system");
    turn(&b, "system", first_system ? msgs[0].content : default_system);
    for (int i = 0; i < n; i++) {
        const hp_chat_msg *m = &msgs[i];
        if (is_role(m, "user") || is_role(m, "assistant") || (is_role(m, "system") && i > 0)) {
            turn(&b, m->role, m->content);
        } else if (is_role(m, "tool")) {
            if (i == 0 || !is_role(&msgs[i - 1], "tool")) hp_buf_puts(&b, "<|im_start|>user");
            hp_buf_puts(&b, "\n<tool_response>\n");
            hp_buf_puts(&b, m->content ? m->content : "");
            hp_buf_puts(&b, "\n</tool_response>");
            if (i == n - 1 || !is_role(&msgs[i + 1], "tool")) hp_buf_puts(&b, "<|im_end|>\n");
        }
    }
    if (add_generation_prompt) hp_buf_puts(&b, "<|im_start|>assistant\n");
    return hp_buf_take(&b);
}

/* The same template as jinja text (Qwen2.5-Instruct's tokenizer_config.json "chat_template"), written
 * into the tokenizer_config.json of a trained tokenizer so that other tools render it identically. */
const char hp_chat_template_qwen25[] =
    "{%- if tools %}\n"
    "    {{- '<|im_start|>system\\n' }}\n"
    "    {%- if messages[0]['role'] == 'system' %}\n"
    "        {{- messages[0]['content'] }}\n"
    "    {%- else %}\n"
    "        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}\n"
    "    {%- endif %}\n"
    "    {{- \"\\n\\n# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\nYou are provided with function signatures within <tools></tools> XML tags:\\n<tools>\" }}\n"
    "    {%- for tool in tools %}\n"
    "        {{- \"\\n\" }}\n"
    "        {{- tool | tojson }}\n"
    "    {%- endfor %}\n"
    "    {{- \"\\n</tools>\\n\\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\\n<tool_call>\\n{\\\"name\\\": <function-name>, \\\"arguments\\\": <args-json-object>}\\n</tool_call><|im_end|>\\n\" }}\n"
    "{%- else %}\n"
    "    {%- if messages[0]['role'] == 'system' %}\n"
    "        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}\n"
    "    {%- else %}\n"
    "        {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}\n"
    "    {%- endif %}\n"
    "{%- endif %}\n"
    "{%- for message in messages %}\n"
    "    {%- if (message.role == \"user\") or (message.role == \"system\" and not loop.first) or (message.role == \"assistant\" and not message.tool_calls) %}\n"
    "        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}\n"
    "    {%- elif message.role == \"assistant\" %}\n"
    "        {{- '<|im_start|>' + message.role }}\n"
    "        {%- if message.content %}\n"
    "            {{- '\\n' + message.content }}\n"
    "        {%- endif %}\n"
    "        {%- for tool_call in message.tool_calls %}\n"
    "            {%- if tool_call.function is defined %}\n"
    "                {%- set tool_call = tool_call.function %}\n"
    "            {%- endif %}\n"
    "            {{- '\\n<tool_call>\\n{\"name\": \"' }}\n"
    "            {{- tool_call.name }}\n"
    "            {{- '\", \"arguments\": ' }}\n"
    "            {{- tool_call.arguments | tojson }}\n"
    "            {{- '}\\n</tool_call>' }}\n"
    "        {%- endfor %}\n"
    "        {{- '<|im_end|>\\n' }}\n"
    "    {%- elif message.role == \"tool\" %}\n"
    "        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != \"tool\") %}\n"
    "            {{- '<|im_start|>user' }}\n"
    "        {%- endif %}\n"
    "        {{- '\\n<tool_response>\\n' }}\n"
    "        {{- message.content }}\n"
    "        {{- '\\n</tool_response>' }}\n"
    "        {%- if loop.last or (messages[loop.index0 + 1].role != \"tool\") %}\n"
    "            {{- '<|im_end|>\\n' }}\n"
    "        {%- endif %}\n"
    "    {%- endif %}\n"
    "{%- endfor %}\n"
    "{%- if add_generation_prompt %}\n"
    "    {{- '<|im_start|>assistant\\n' }}\n"
    "{%- endif %}\n";
