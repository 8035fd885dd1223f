"""The seed program: a registered class shared by ten processes.

Written as the tutorials write it, with only the import changed
(multiprocessing.managers -> mgr.managers). mgr runs each method under the
object's lock, so the `with lock:` is not needed; it still works."""
from multiprocessing import Process, Lock
from mgr.managers import BaseManager


class Employee(object):
    def __init__(self, name, salary):
        self.name = name
        self.salary = salary

    def increase(self):
        self.salary += 100

    def getPay(self):
        return self.name + ':' + str(self.salary)


class MyManager(BaseManager):
    pass


MyManager.register('Employee', Employee)


def func1(em, lock):
    with lock:
        em.increase()


if __name__ == '__main__':
    import sys
    import multiprocessing
    if len(sys.argv) > 1:
        multiprocessing.set_start_method(sys.argv[1])
    manager = MyManager()
    manager.start()
    em = manager.Employee('zhangsan', 1000)
    lock = Lock()
    proces = [Process(target=func1, args=(em, lock)) for i in range(10)]
    for p in proces:
        p.start()
    for p in proces:
        p.join()
    pay = em.getPay()
    print(pay)
    manager.shutdown()
    if pay != 'zhangsan:2000' or any(p.exitcode != 0 for p in proces):
        sys.exit('employee: expected zhangsan:2000 and clean exits, got %s %s'
                 % (pay, [p.exitcode for p in proces]))
