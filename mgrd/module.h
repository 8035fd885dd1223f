/* Loading custom types from a module (.so) given on the command line. */
#ifndef MGRD_MODULE_H
#define MGRD_MODULE_H

/* 0, or -1 after logging why (load failure, no table, clashing name). */
int module_load(const char *path);

#endif
