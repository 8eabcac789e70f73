/*
 * chiral-wan-delay --queue N --delay-ms D
 *
 * Adds a constant one-way delay to the packets an iptables rule sends to
 * NFQUEUE number N (the NAT lab puts one on each router's WAN egress).
 * It exists because this machine's kernel has no sch_netem, so
 * `tc qdisc ... netem delay` is not available.
 *
 * Copy mode is metadata only: packets stay in the kernel, we get their ids.
 * Each id goes into a FIFO with its arrival time; D ms later it is accepted.
 * A constant delay keeps the FIFO in arrival order, and kernel packet ids
 * grow in that order, so one batch verdict ("accept every id <= X") releases
 * all packets that are due. Reads use recvmmsg, so a busy queue costs a few
 * syscalls per hundred packets.
 *
 * Prints `ready` on stdout once the queue is bound. On SIGTERM/SIGINT it
 * accepts whatever it still holds, and prints its counters to stderr:
 * packets, max_queued, enobufs (our socket overflowed: those packets were
 * dropped), the kernel's queue_dropped (queue full) and user_dropped, how
 * late packets were released on average and at worst (µs past their delay:
 * large values mean this program did not get the CPU in time), and its CPU
 * time.
 *
 * Build: gcc -O2 -Wall -o chiral-wan-delay delay.c -lnetfilter_queue
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h> /* NF_ACCEPT */
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#define QUEUE_MAXLEN 131072       /* packets the kernel may hold for us */
#define RING (1u << 18)           /* > QUEUE_MAXLEN, power of two */
#define RCVBUF (64 << 20)         /* netlink receive buffer, bytes */
#define BATCH 64                  /* messages per recvmmsg */
#define MSG_BYTES 4096            /* one metadata-only message is ~100 bytes */

static struct { uint32_t id; int64_t at; } ring[RING];
static uint32_t head, tail;       /* ring[head..tail) are held, in arrival order */
static int64_t now_ns, delay_ns;
static uint64_t packets, enobufs, max_queued, late_sum_ns, late_max_ns, released;
static struct nfq_q_handle *qh;
static volatile sig_atomic_t stopping;

static int64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int on_packet(struct nfq_q_handle *q, struct nfgenmsg *m, struct nfq_data *nfa, void *data) {
  uint32_t id = ntohl(nfq_get_msg_packet_hdr(nfa)->packet_id);
  packets++;
  if (tail - head == RING) return nfq_set_verdict(q, id, NF_ACCEPT, 0, NULL); /* cannot happen: RING > maxlen */
  ring[tail % RING].id = id;
  ring[tail % RING].at = now_ns;
  tail++;
  if (tail - head > max_queued) max_queued = tail - head;
  return 0;
}

/* Accepts every held packet whose time has come (all of them if `all`). */
static void release(int all) {
  uint32_t n = head;
  while (n != tail && (all || ring[n % RING].at + delay_ns <= now_ns)) {
    int64_t late = now_ns - ring[n % RING].at - delay_ns;
    if (late > 0) { late_sum_ns += late; if ((uint64_t)late > late_max_ns) late_max_ns = late; }
    n++;
  }
  if (n == head) return;
  released += n - head;
  nfq_set_verdict_batch(qh, ring[(n - 1) % RING].id, NF_ACCEPT);
  head = n;
}

static void on_signal(int sig) { stopping = 1; }

static void kernel_counters(int queue, unsigned long *qdrop, unsigned long *udrop) {
  FILE *f = fopen("/proc/net/netfilter/nfnetlink_queue", "r");
  unsigned long q, skip;
  if (!f) return;
  while (fscanf(f, "%lu %lu %lu %lu %lu %lu %lu %*[^\n]", &q, &skip, &skip, &skip, &skip, qdrop, udrop) == 7)
    if ((int)q == queue) break;
  fclose(f);
}

int main(int argc, char **argv) {
  int queue = -1, delay_ms = -1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--queue")) queue = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--delay-ms")) delay_ms = atoi(argv[i + 1]);
  }
  if (queue < 0 || delay_ms < 0) {
    fprintf(stderr, "usage: %s --queue N --delay-ms D\n", argv[0]);
    return 2;
  }
  delay_ns = (int64_t)delay_ms * 1000000;

  struct nfq_handle *h = nfq_open();
  if (!h || !(qh = nfq_create_queue(h, queue, on_packet, NULL))) { perror("binding the queue"); return 1; }
  if (nfq_set_mode(qh, NFQNL_COPY_META, 0) < 0) { perror("nfq_set_mode"); return 1; }
  if (nfq_set_queue_maxlen(qh, QUEUE_MAXLEN) < 0) { perror("nfq_set_queue_maxlen"); return 1; }
  int fd = nfq_fd(h), rcvbuf = RCVBUF;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0) perror("SO_RCVBUFFORCE");

  /* Signals are blocked except inside ppoll, so a stop request cannot be missed. */
  sigset_t blocked, waiting;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGTERM);
  sigaddset(&blocked, SIGINT);
  sigprocmask(SIG_BLOCK, &blocked, &waiting);
  struct sigaction sa = { .sa_handler = on_signal };
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);

  static char bufs[BATCH][MSG_BYTES];
  struct iovec iov[BATCH];
  struct mmsghdr msgs[BATCH];
  for (int i = 0; i < BATCH; i++) {
    iov[i] = (struct iovec){ bufs[i], MSG_BYTES };
    msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
  }

  /* A link must not wait for the CPU behind the endpoints it carries: run
   * real-time (it sleeps in ppoll and needs a few µs per packet), or at
   * least at a high priority where real-time is not allowed. */
  struct sched_param sp = { .sched_priority = 10 };
  if (sched_setscheduler(0, SCHED_FIFO, &sp) < 0 && setpriority(PRIO_PROCESS, 0, -10) < 0) perror("raising priority");

  printf("ready\n");
  fflush(stdout);

  struct pollfd pfd = { .fd = fd, .events = POLLIN };
  while (!stopping) {
    now_ns = mono_ns();
    release(0);
    struct timespec ts, *timeout = NULL;
    if (head != tail) {
      int64_t wait = ring[head % RING].at + delay_ns - now_ns;
      ts = (struct timespec){ wait / 1000000000, wait % 1000000000 };
      timeout = &ts;
    }
    if (ppoll(&pfd, 1, timeout, &waiting) <= 0) continue;
    /* Drain what is there, but come back to release in time. */
    for (int round = 0; round < 16; round++) {
      int n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
      if (n < 0) {
        if (errno == ENOBUFS) { enobufs++; continue; }
        break; /* EAGAIN: empty */
      }
      now_ns = mono_ns();
      for (int i = 0; i < n; i++) nfq_handle_packet(h, bufs[i], (int)msgs[i].msg_len);
      if (n < BATCH) break;
    }
  }

  now_ns = mono_ns();
  release(1);
  unsigned long qdrop = 0, udrop = 0;
  kernel_counters(queue, &qdrop, &udrop);
  nfq_destroy_queue(qh);
  nfq_close(h);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  fprintf(stderr, "packets=%llu max_queued=%llu enobufs=%llu queue_dropped=%lu user_dropped=%lu"
          " late_avg_us=%llu late_max_us=%llu cpu_ms=%ld\n",
          (unsigned long long)packets, (unsigned long long)max_queued, (unsigned long long)enobufs, qdrop, udrop,
          (unsigned long long)(released ? late_sum_ns / released / 1000 : 0), (unsigned long long)(late_max_ns / 1000),
          (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000);
  return 0;
}
