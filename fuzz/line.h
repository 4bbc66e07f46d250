/*
 * line.h — the request line a fuzz input stands for, as the server's
 * framing (daemon/rpc/conn.c) would hand it over: up to, not including,
 * the first newline, and never max_message_bytes or more. Shared by the
 * targets that fuzz one request line (fuzz_request.c, fuzz_envelope.c).
 */
#ifndef BRM_FUZZ_LINE_H
#define BRM_FUZZ_LINE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * A copy of the first line of @data (@size bytes) with one writable byte
 * after it, its length in *@len; NULL for an input of @max bytes or more,
 * which the server refuses before decoding. Ownership: caller frees.
 */
static inline char *brm_fuzz_line(const uint8_t *data, size_t size, size_t max, size_t *len)
{
	const uint8_t *nl;
	char *line;

	if (size >= max)
		return NULL;
	nl = memchr(data, '\n', size);
	if (nl)
		size = (size_t)(nl - data);
	line = malloc(size + 1);
	if (size)
		memcpy(line, data, size);
	*len = size;
	return line;
}

#endif
