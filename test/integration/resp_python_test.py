#!/usr/bin/python3
"""Shoal's Redis front end driven by the Python `redis` client (Debian python3-redis).

On a 3-node `shoal dev` cluster (TLS, as shipped) with a set namespace and an lww one
as Redis databases 1 and 2:
  - a cart program: workers SADD items through all three nodes while node 2 is killed
    with SIGKILL and restarted; others SMEMBERS then SREM some of them. At the end
    every acknowledged add is in the cart unless an acknowledged SREM removed it, read
    through every node.
  - a session program: SETEX/GET/EXPIRE/TTL/PERSIST through different nodes; a short
    session expires; SCAN lists the live session and not the expired one.
  - a pipeline program: hundreds of commands sent before any reply (commands on
    different keys run at once); the replies come in order, commands on one key keep
    their order, and a SELECT in the middle applies to what follows it.
Usage: resp_python_test.py SHOAL_CLI. Exits 77 (skipped) without the redis module.
Bounded: every loop stops by count and by time."""
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time

try:
    import redis
except ImportError:
    print("python3-redis missing (scripts/deps installs it): skipped")
    sys.exit(77)

SHOAL = sys.argv[1]
BASE = 26000 + (os.getpid() + 13) % 20 * 40
DIR = tempfile.mkdtemp(prefix="shoal-pyresp-")
failures = []


def shoal(*args, check=True):
    return subprocess.run([SHOAL, "--dir", DIR, *args], capture_output=True, text=True, timeout=60, check=check)


def client(node, db):
    return redis.Redis(host="127.0.0.1", port=BASE + 10 * node + 4, db=db, ssl=True,
                       ssl_ca_certs=f"{DIR}/tls/ca.crt", ssl_certfile=f"{DIR}/tls/client-admin.crt",
                       ssl_keyfile=f"{DIR}/tls/client-admin.key", socket_timeout=5, socket_connect_timeout=2)


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        failures.append(what)


def cart_program(kill_node):
    """Adds through every node while `kill_node` is killed and restarted."""
    key = "cart:alice"
    acked_adds, acked_removes = set(), set()
    lock = threading.Lock()
    stop = time.monotonic() + 8

    def adder(w):
        n = 0
        while time.monotonic() < stop and n < 300:
            node = 1 + (w + n) % 3
            item = f"item-{w}-{n}"
            n += 1
            try:
                client(node, 1).sadd(key, item)
                with lock:
                    acked_adds.add(item)
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, redis.exceptions.ResponseError):
                time.sleep(0.05)  # that node is down, or the write failed: not acknowledged

    def remover():
        rounds = 0
        while time.monotonic() < stop and rounds < 100:
            rounds += 1
            try:
                r = client(3, 1)
                seen = sorted(m.decode() for m in r.smembers(key))  # SREM removes what this read saw
                if seen:
                    victim = random.choice(seen)
                    if r.srem(key, victim) == 1:
                        with lock:
                            acked_removes.add(victim)
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, redis.exceptions.ResponseError):
                pass
            time.sleep(0.1)

    threads = [threading.Thread(target=adder, args=(w,)) for w in range(4)] + [threading.Thread(target=remover)]
    for t in threads:
        t.start()
    time.sleep(2)
    shoal("dev", "kill", str(kill_node))
    time.sleep(2)
    shoal("dev", "restart", str(kill_node))
    for t in threads:
        t.join(timeout=30)
    # Every node, once the restarted one has caught up (read repair, anti-entropy).
    want = acked_adds - acked_removes
    for node in (1, 2, 3):
        got = set()
        for _ in range(50):
            try:
                got = {m.decode() for m in client(node, 1).smembers(key)}
            except redis.exceptions.RedisError:
                got = set()
            if want <= got:
                break
            time.sleep(0.2)
        check(want <= got, f"node {node}: all {len(want)} acknowledged adds present "
                           f"({len(acked_adds)} added, {len(acked_removes)} removed; missing {len(want - got)})")
        # Each item is added once, and removed only after a read saw it: gone for good.
        check(not (got & acked_removes), f"node {node}: no removed item is back ({len(got & acked_removes)} are)")
    check(len(acked_adds) > 100, f"the cart program made progress ({len(acked_adds)} adds acknowledged)")
    check(len(acked_removes) > 0, f"the remover removed items ({len(acked_removes)})")


def session_program():
    s1, s2, s3 = client(1, 2), client(2, 2), client(3, 2)
    check(s1.setex("session:9f2c", 1800, '{"user":"alice"}') is True, "SETEX through node 1")
    check(s2.get("session:9f2c") == b'{"user":"alice"}', "GET through node 2")
    check(1795 <= s3.ttl("session:9f2c") <= 1800, "TTL through node 3")
    check(s2.expire("session:9f2c", 60) is True, "EXPIRE through node 2")
    check(50 <= s1.ttl("session:9f2c") <= 60, "the new TTL through node 1")
    check(s3.persist("session:9f2c") is True and s1.ttl("session:9f2c") == -1, "PERSIST")
    s1.setex("session:short", 1, "bye")
    check(s2.get("session:short") == b"bye", "a 1 s session is there")
    time.sleep(2.2)
    check(s3.get("session:short") is None and s3.ttl("session:short") == -2, "and has expired 2 s later")
    # SCAN (scan_iter pages through cursors) lists the live session, not the expired one.
    listed = {k.decode() for k in s2.scan_iter(match="session:*", count=5)}
    check(listed == {"session:9f2c"}, f"SCAN through node 2 lists the live session only ({sorted(listed)})")
    check(s1.delete("session:9f2c") == 1 and s2.get("session:9f2c") is None, "DEL")


def pipeline_program():
    pipe = client(1, 2).pipeline(transaction=False)
    for i in range(300):
        pipe.set(f"p:{i}", f"v{i}")
    pipe.append("p:0", "x")
    pipe.get("p:0")
    for _ in range(50):
        pipe.incr("p:n")
    pipe.mget([f"p:{i}" for i in range(1, 300)])
    pipe.execute_command("SELECT", 1)  # the set namespace, from here on
    pipe.sadd("p:cart", "apple", "pear")
    pipe.smembers("p:cart")
    started = time.monotonic()
    got = pipe.execute()
    took = time.monotonic() - started
    check(got[:300] == [True] * 300, "300 pipelined SETs each answered OK, in order")
    check(got[300] == 3 and got[301] == b"v0x", "APPEND then GET of one key saw the SET before them")
    check(got[302:352] == list(range(1, 51)), "50 pipelined INCRs of one key counted 1..50 in order")
    check(got[352] == [f"v{i}".encode() for i in range(1, 300)], "MGET after them read every value")
    check(got[353] is True or got[353] == b"OK", "SELECT inside the pipeline")
    check(got[354] == 2 and got[355] == {b"apple", b"pear"}, "the commands after SELECT ran on the set database")
    print(f"pipeline: {len(got)} commands in {took * 1000:.0f} ms")


def main():
    try:
        shoal("dev", "up", "3", "--base-port", str(BASE))
        shoal("ns", "create", "carts", "--datatype", "set")
        shoal("ns", "create", "sessions", "--conflict", "lww")
        for n in (1, 2, 3):
            with open(f"{DIR}/n{n}.conf", "a") as f:
                f.write("resp_databases = default,carts,sessions\n")
            shoal("dev", "restart", str(n))
        for _ in range(50):  # gossip brings the namespaces to every node
            try:
                if all(client(n, 1).sadd("probe", "x") is not None for n in (1, 2, 3)):
                    break
            except redis.exceptions.RedisError:
                time.sleep(0.2)
        session_program()
        pipeline_program()
        cart_program(kill_node=2)
    finally:
        shoal("dev", "down", check=False)
        shutil.rmtree(DIR, ignore_errors=True)
    if failures:
        print(f"{len(failures)} checks failed")
        sys.exit(1)
    print("all checks passed")


main()
