/*
 * listen.h — creating the server's listening socket (listen.c).
 * Context: loop thread, before the workers start.
 */
#ifndef BRM_LISTEN_H
#define BRM_LISTEN_H

#include <sys/types.h>

/* @path made absolute against the working directory, or NULL with errno.
 * Ownership: caller frees. */
char *absolute_path(const char *path);

/*
 * Bind and listen on @path as brm_server_create() describes (server.h).
 * Returns the listening descriptor (non-blocking), or -errno with *@err
 * (caller frees).
 */
int bind_socket(const char *path, mode_t mode, gid_t gid, char **err);

#endif
