"""Producer/consumer over a JoinableQueue, as the tutorials write it, with
only the import changed (multiprocessing -> mgr). Checks its own result."""
import sys
from multiprocessing import Process

from mgr import Manager


def producer(q, n, base):
    for i in range(n):
        q.put(base + i)


def consumer(q, results):
    while True:
        item = q.get()
        if item is None:
            q.task_done()
            break
        results.append(item * item)
        q.task_done()


if __name__ == '__main__':
    with Manager() as manager:
        q = manager.JoinableQueue()
        results = manager.list()
        producers = [Process(target=producer, args=(q, 100, k * 100)) for k in range(3)]
        consumers = [Process(target=consumer, args=(q, results)) for _ in range(4)]
        for p in producers + consumers:
            p.start()
        for p in producers:
            p.join()
        for _ in consumers:
            q.put(None)
        q.join()
        for c in consumers:
            c.join()
        got = sorted(results)
        want = sorted(i * i for i in range(300))
        print('consumed %d items' % len(got))
        if got != want:
            sys.exit('producer_consumer: wrong results')
