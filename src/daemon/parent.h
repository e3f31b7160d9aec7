/*
 * daemon/parent.h - `talon serve`.
 */
#ifndef TALON_PARENT_H
#define TALON_PARENT_H

#include <stdbool.h>

/* Run the daemon in the foreground until SIGTERM/SIGINT.  Returns the
 * process exit status. */
int talon_serve(const char *conf_path, bool debug);

#endif
