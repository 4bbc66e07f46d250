/*
 * worker.h — a worker thread (worker.c): its main function, and the epoll
 * tags of the two descriptors every worker watches besides its clients.
 */
#ifndef BRM_WORKER_H
#define BRM_WORKER_H

/* epoll data.ptr of the listening socket and of the worker's eventfd. */
extern char tag_listen, tag_event;

/* The thread: @arg is its struct worker. Context: the worker itself. */
void *worker_main(void *arg);

#endif
