/*
 * deliver/deliver.h - the deliver process: local delivery into Maildir.
 */
#ifndef TALON_DELIVER_H
#define TALON_DELIVER_H

/* Never returns.  parent_fd: channel to the parent (which later sends the
 * channel to the queue); store_fd: the mail store. */
void deliver_main(int parent_fd, int store_fd)
	__attribute__((noreturn));

#endif
