/* study.h — `hiper study` (cmd_study.c runs a study, study_table.c turns its cell summaries into tables):
 * what the two files share. See docs/results.md for the STUDY.json format. */
#ifndef HIPER_CLI_STUDY_H
#define HIPER_CLI_STUDY_H

#include "hiper/base.h"

struct cJSON;

/* The markdown tables of every summary in dir/cells/CELL.json (the summaries alone: run directories are not
 * read). reference: the method the others are compared with (NULL: the one the summaries name). */
int hp_study_tables(const char *dir, const char *reference, hp_buf *out, hp_err *err);

/* Every cell summary of dir/cells, parsed, in file-name order (a JSON array; NULL on error). */
struct cJSON *hp_study_load_summaries(const char *dir, hp_err *err);

#endif /* HIPER_CLI_STUDY_H */
