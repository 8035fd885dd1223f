"""mgr error codes -> the exceptions Python code expects.

Each class also derives from mgr.Error, so `except mgr.Error` catches every
failure the manager reports; `exc.mgr_code` is the wire code."""
import queue
import threading
from multiprocessing import context as _mp_context


class Error(Exception):
    """A call the manager refused; mgr_code is the code (proto/README.md)."""
    mgr_code = 0


def _make(name, *bases, doc=""):
    return type(name, (Error,) + bases, {"__doc__": doc, "__module__": "mgr"})


ConnectionLost = _make("ConnectionLost", ConnectionError, EOFError, doc="EIO/ECONNECT: no manager")
Timeout = _make("Timeout", TimeoutError, doc="ETIMEDOUT")
NoObject = _make("NoObject", ReferenceError, doc="ENOOBJ: the object is gone")
NoMethod = _make("NoMethod", AttributeError, doc="ENOMETHOD")
BadArgs = _make("BadArgs", TypeError, ValueError, doc="EARGS: wrong arguments")
WrongType = _make("WrongType", TypeError, doc="ETYPE")
NoKey = _make("NoKey", KeyError, doc="ENOKEY")
BadIndex = _make("BadIndex", IndexError, doc="EINDEX")
Exists = _make("Exists", ValueError, doc="EEXIST")
NoType = _make("NoType", ValueError, doc="ENOTYPE")
Limit = _make("Limit", OverflowError, doc="ELIMIT: a manager limit")
BadText = _make("BadText", UnicodeError, doc="EUTF8")
NotPermitted = _make("NotPermitted", PermissionError, doc="EPERM")
BadState = _make("BadState", RuntimeError, ValueError, doc="ESTATE: e.g. release of an unlocked lock")
Broken = _make("Broken", threading.BrokenBarrierError, doc="EBROKEN")
Canceled = _make("Canceled", RuntimeError, doc="ECANCELED")
Empty = _make("Empty", queue.Empty, doc="EEMPTY")
Full = _make("Full", queue.Full, doc="EFULL")
NotFound = _make("NotFound", ValueError, doc="EVALUE")
ShuttingDown = _make("ShuttingDown", ConnectionError, EOFError, doc="ESHUTDOWN")
Range = _make("Range", OverflowError, doc="ERANGE")
ModuleFailed = _make("ModuleFailed", RuntimeError, doc="EMODULE: a served type's code failed")
NoAttribute = _make("NoAttribute", AttributeError, doc="ENOATTR")
Stop = _make("Stop", StopIteration, doc="ESTOP")
Changed = _make("Changed", RuntimeError, doc="ECHANGED")
PipeEnded = _make("PipeEnded", EOFError, doc="EEOF: the pipe's other end is gone (Connection.recv's EOFError)")
AuthenticationError = _make("AuthenticationError", PermissionError, _mp_context.AuthenticationError,
                            doc="a TCP manager refused the key, or did not prove it (or TLS failed)")

ERROR_MAP = {
    2: ConnectionLost, 3: ConnectionLost, 4: Timeout, 5: NoObject, 6: NoMethod, 7: BadArgs,
    8: WrongType, 9: NoKey, 10: BadIndex, 11: Exists, 12: NoType, 13: Limit, 14: BadText,
    15: NotPermitted, 16: ConnectionLost, 17: ConnectionLost, 18: BadState, 19: Broken,
    20: Canceled, 21: Empty, 22: Full, 23: NotFound, 24: BadArgs, 25: ShuttingDown, 26: Range,
    27: ModuleFailed, 28: NoAttribute, 29: Stop, 30: Changed, 31: PipeEnded,
}


class RemoteError(Exception):
    """As multiprocessing.managers.RemoteError: a failure in the serving
    machinery (unknown method, not exposed), with its text."""

    def __str__(self):
        return ('\n' + '-' * 75 + '\n' + str(self.args[0]) + '-' * 75) if self.args else ''
