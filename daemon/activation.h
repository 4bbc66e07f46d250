/*
 * activation.h — socket activation (sd_listen_fds(3) without libsystemd):
 * when $LISTEN_PID is our pid and $LISTEN_FDS >= 1, the service manager
 * passed the listening socket as descriptor 3 and brummd serves on it
 * instead of binding its own.
 *
 * Context: main, before any thread starts (it edits the environment).
 */
#ifndef BRM_ACTIVATION_H
#define BRM_ACTIVATION_H

/*
 * Returns the passed listening socket (made non-blocking and close-on-exec)
 * and unsets LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES; -ENOENT when
 * brummd was not socket-activated; another -errno with *@err (caller frees)
 * when the passed descriptor is not a listening AF_UNIX stream socket.
 */
int brm_activation_listen_fd(char **err);

#endif
