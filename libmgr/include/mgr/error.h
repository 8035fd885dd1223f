/* mgr error codes. The numbers cross the wire: never renumber, only add. */
#ifndef MGR_ERROR_H
#define MGR_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

#if defined(MGR_BUILDING)
#define MGR_API __attribute__((visibility("default")))
#else
#define MGR_API
#endif

typedef enum mgr_err {
	MGR_OK = 0,
	MGR_ENOMEM = 1,     /* out of memory */
	MGR_EIO = 2,        /* connection lost or socket error */
	MGR_EPROTO = 3,     /* protocol violation */
	MGR_ETIMEDOUT = 4,  /* the call's timeout passed */
	MGR_ENOOBJ = 5,     /* no such object */
	MGR_ENOMETHOD = 6,  /* the object's type has no such method */
	MGR_EARGS = 7,      /* wrong argument count or argument type */
	MGR_ETYPE = 8,      /* a stored value has the wrong type for this */
	MGR_ENOKEY = 9,     /* no such key */
	MGR_EINDEX = 10,    /* index out of range */
	MGR_EEXIST = 11,    /* the name is taken */
	MGR_ENOTYPE = 12,   /* no such type */
	MGR_ELIMIT = 13,    /* a configured limit was reached */
	MGR_EUTF8 = 14,     /* a string is not valid UTF-8 */
	MGR_EPERM = 15,     /* not permitted */
	MGR_ECONNECT = 16,  /* no manager at that address */
	MGR_EVERSION = 17,  /* protocol version mismatch */
	MGR_ESTATE = 18,    /* not valid in the object's state */
	MGR_EBROKEN = 19,   /* barrier broken */
	MGR_ECANCELED = 20, /* the call was cancelled */
	MGR_EEMPTY = 21,    /* queue empty */
	MGR_EFULL = 22,     /* queue full */
	MGR_EVALUE = 23,    /* value not present (list remove / index) */
	MGR_EINVAL = 24,    /* invalid argument to a libmgr function */
	MGR_ESHUTDOWN = 25, /* the manager is shutting down */
	MGR_ERANGE = 26,    /* integer overflow */
	MGR_EMODULE = 27,   /* a custom type's code failed */
	MGR_ENOATTR = 28,   /* no such attribute (namespace) */
	MGR_ESTOP = 29,     /* iterator exhausted (Python's StopIteration) */
	MGR_ECHANGED = 30,  /* the container changed size during iteration */
	MGR_EEOF = 31,      /* the other end of a pipe is closed (Python's EOFError) */
	MGR_ERR_COUNT_
} mgr_err;

/* A constant, never NULL; unknown codes give "unknown error". */
MGR_API const char *mgr_strerror(int err);
/* The code's symbolic name ("ENOKEY"); constant, never NULL. */
MGR_API const char *mgr_errname(int err);

#ifdef __cplusplus
}
#endif
#endif
