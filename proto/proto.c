/*
 * proto.c — process names as the protocol allows them (proto.h).
 */
#include <ctype.h>

#include "proto/proto.h"

bool brm_name_valid(const char *name)
{
	size_t n = 0;

	if (!name || !name[0] || name[0] == '.' || name[0] == '-')
		return false;
	for (; name[n]; n++) {
		unsigned char c = (unsigned char)name[n];
		if (n >= BRM_MAX_NAME_LEN)
			return false;
		if (!(isalnum(c) || c == '.' || c == '_' || c == '-' || c == ':' || c == '@'))
			return false;
	}
	return true;
}
