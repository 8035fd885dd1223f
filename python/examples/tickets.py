"""The ticket office: 3 tickets, 10 buyers, a Value and a Lock (the
tutorial program, only the import changed). Exactly 3 buyers succeed."""
import sys
from multiprocessing import Process

from mgr import Manager


def buy(tickets, lock, sold, who):
    with lock:
        if tickets.value > 0:
            tickets.value -= 1
            sold.append(who)


if __name__ == '__main__':
    with Manager() as manager:
        tickets = manager.Value('i', 3)
        lock = manager.Lock()
        sold = manager.list()
        ps = [Process(target=buy, args=(tickets, lock, sold, i)) for i in range(10)]
        for p in ps:
            p.start()
        for p in ps:
            p.join()
        print('sold to', sorted(sold), 'left', tickets.value)
        if len(sold) != 3 or tickets.value != 0:
            sys.exit('tickets: oversold or undersold')
