/* The error table: one row per mgr_err, shared by client and server so that
 * names and messages are the same on both ends of the wire. */
#include "mgr/error.h"

#include <stddef.h>

struct error_row {
	const char *name;
	const char *message;
};

static const struct error_row error_table[MGR_ERR_COUNT_] = {
	[MGR_OK] = {"OK", "success"},
	[MGR_ENOMEM] = {"ENOMEM", "out of memory"},
	[MGR_EIO] = {"EIO", "connection to the manager lost"},
	[MGR_EPROTO] = {"EPROTO", "protocol violation"},
	[MGR_ETIMEDOUT] = {"ETIMEDOUT", "timed out"},
	[MGR_ENOOBJ] = {"ENOOBJ", "no such object"},
	[MGR_ENOMETHOD] = {"ENOMETHOD", "no such method"},
	[MGR_EARGS] = {"EARGS", "bad arguments"},
	[MGR_ETYPE] = {"ETYPE", "wrong type"},
	[MGR_ENOKEY] = {"ENOKEY", "no such key"},
	[MGR_EINDEX] = {"EINDEX", "index out of range"},
	[MGR_EEXIST] = {"EEXIST", "name already in use"},
	[MGR_ENOTYPE] = {"ENOTYPE", "no such type"},
	[MGR_ELIMIT] = {"ELIMIT", "limit reached"},
	[MGR_EUTF8] = {"EUTF8", "invalid UTF-8"},
	[MGR_EPERM] = {"EPERM", "not permitted"},
	[MGR_ECONNECT] = {"ECONNECT", "cannot connect to the manager"},
	[MGR_EVERSION] = {"EVERSION", "protocol version mismatch"},
	[MGR_ESTATE] = {"ESTATE", "invalid in the object's state"},
	[MGR_EBROKEN] = {"EBROKEN", "barrier broken"},
	[MGR_ECANCELED] = {"ECANCELED", "cancelled"},
	[MGR_EEMPTY] = {"EEMPTY", "queue empty"},
	[MGR_EFULL] = {"EFULL", "queue full"},
	[MGR_EVALUE] = {"EVALUE", "value not found"},
	[MGR_EINVAL] = {"EINVAL", "invalid argument"},
	[MGR_ESHUTDOWN] = {"ESHUTDOWN", "manager shutting down"},
	[MGR_ERANGE] = {"ERANGE", "integer overflow"},
	[MGR_EMODULE] = {"EMODULE", "custom type failed"},
	[MGR_ENOATTR] = {"ENOATTR", "no such attribute"},
	[MGR_ESTOP] = {"ESTOP", "iteration stopped"},
	[MGR_ECHANGED] = {"ECHANGED", "container changed size during iteration"},
	[MGR_EEOF] = {"EEOF", "end of file: the other end of the pipe is closed"},
};

static const struct error_row *error_row(int err)
{
	if (err < 0 || err >= MGR_ERR_COUNT_ || !error_table[err].name)
		return NULL;
	return &error_table[err];
}

const char *mgr_strerror(int err)
{
	const struct error_row *r = error_row(err);
	return r ? r->message : "unknown error";
}

const char *mgr_errname(int err)
{
	const struct error_row *r = error_row(err);
	return r ? r->name : "EUNKNOWN";
}
