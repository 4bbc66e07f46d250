/*
 * fuzz_config.c — libFuzzer target for the configuration parser
 * (brm_config_parse: comments, JSON, every key and value check, the
 * error report), and the access-control resolution it feeds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/conf/access.h"
#include "daemon/conf/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct brm_config *cfg = NULL;
	char *err = NULL;

	if (brm_config_parse((const char *)data, size, "fuzz.json", &cfg, &err) == 0) {
		if (!cfg || err)
			abort();
		brm_config_destroy(cfg);
	} else {
		/* A failure always says why, one problem per line, never empty. */
		if (cfg || !err || !err[0])
			abort();
		free(err);
	}
	return 0;
}
