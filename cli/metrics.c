/*
 * metrics.c — `brummctl metrics`: brummd's state in the Prometheus text
 * exposition format 0.0.4, for node_exporter's textfile collector.
 *
 * brummd renders it (daemon/rpc/metrics.c, the same text its
 * metrics_listen serves at GET /metrics); this prints the `metrics`
 * method's "text" as it came, only once the whole reply is in, so a failed
 * call leaves stdout empty and a collector's file is never half written
 * by us.
 */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/brummctl.h"

int cli_metrics_print(FILE *f, const struct cJSON *result)
{
	const cJSON *text = cJSON_GetObjectItemCaseSensitive(result, "text");

	if (!cJSON_IsString(text))
		return -1;
	fwrite(text->valuestring, 1, strlen(text->valuestring), f);
	return 0;
}
