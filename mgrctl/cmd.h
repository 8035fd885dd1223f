/* mgrctl's verbs: one function per verb, one file per verb family. Each
 * gets its positional arguments (options already taken into ctl->opt[])
 * and returns an exit code (ctl.h). */
#ifndef MGRCTL_CMD_H
#define MGRCTL_CMD_H

#include "ctl.h"

/* cmd-info.c: the manager as a whole */
int cmd_info(struct ctl *ctl, int argc, char **argv);
int cmd_clients(struct ctl *ctl, int argc, char **argv);
int cmd_stats(struct ctl *ctl, int argc, char **argv);
/* cmd-ls.c: objects */
int cmd_ls(struct ctl *ctl, int argc, char **argv);
int cmd_show(struct ctl *ctl, int argc, char **argv);
/* cmd-object.c: making and ending objects */
int cmd_create(struct ctl *ctl, int argc, char **argv);
int cmd_rm(struct ctl *ctl, int argc, char **argv);
/* cmd-call.c */
int cmd_call(struct ctl *ctl, int argc, char **argv);
/* cmd-types.c: introspection */
int cmd_types(struct ctl *ctl, int argc, char **argv);
int cmd_methods(struct ctl *ctl, int argc, char **argv);
/* cmd-monitor.c */
int cmd_monitor(struct ctl *ctl, int argc, char **argv);
/* cmd-admin.c: the manager's life */
int cmd_shutdown(struct ctl *ctl, int argc, char **argv);
int cmd_save(struct ctl *ctl, int argc, char **argv);
/* cmd-dump.c: named objects as JSON */
int cmd_dump(struct ctl *ctl, int argc, char **argv);
int cmd_load(struct ctl *ctl, int argc, char **argv);
/* mgrctl.c */
int cmd_help(struct ctl *ctl, int argc, char **argv);

#endif
