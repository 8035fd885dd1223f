"""Ten workers share a dict and a list (the tutorial program, only the
import changed). Checks its own result."""
import sys
from multiprocessing import Process

from mgr import Manager


def worker(d, lst, i):
    d[i] = i * i
    lst.append(i)


if __name__ == '__main__':
    with Manager() as manager:
        d = manager.dict()
        lst = manager.list()
        ps = [Process(target=worker, args=(d, lst, i)) for i in range(10)]
        for p in ps:
            p.start()
        for p in ps:
            p.join()
        print(dict(sorted(d.items())))
        print(sorted(lst))
        if dict(d.items()) != {i: i * i for i in range(10)} or sorted(lst) != list(range(10)):
            sys.exit('shared_dict: wrong contents')
