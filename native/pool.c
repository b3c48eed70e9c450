// The scoring threads: started on first use and kept for the life of the process, so a scan hands them
// slices instead of starting threads per request. Callers run queued slices too, until none is left, so
// several scans at once (from several libuv threads) never wait on each other's threads, and a scoring
// thread that starts late (the OS sometimes wakes it on the caller's busy core) costs nothing.
// Background scans have threads of their own (see run_in_background). The threads are named (recserve-scan,
// recserve-scanbg) so that top -H and profilers tell them from Node's own.
#define _GNU_SOURCE
#include <pthread.h>
#include "select.h"
#ifdef __linux__
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

// The scoring threads yield to the process's other threads (the event loop above all) when they contend
// for a core: a lower priority, on Linux where a thread can have its own.
#define SCORING_NICE 10

#define MAX_THREADS 256
#define QUEUE 1024

typedef struct {
  void *(*fn)(void *);
  void *arg;
  int *pending;  // the submitting call's count of slices not yet finished (NULL for a background scan)
} task_t;

// Tasks waiting for a thread, oldest first (a ring).
typedef struct {
  task_t tasks[QUEUE];
  int head, count;
} queue_t;

// Under the queue's lock: takes the oldest task, or returns 0.
static int take(queue_t *q, task_t *t) {
  if (q->count == 0) return 0;
  *t = q->tasks[q->head];
  q->head = (q->head + 1) % QUEUE;
  q->count--;
  return 1;
}

// Under the queue's lock: queues t, or returns 0 when the queue is full.
static int put(queue_t *q, task_t t) {
  if (q->count == QUEUE) return 0;
  q->tasks[(q->head + q->count++) % QUEUE] = t;
  return 1;
}

// Starts a detached thread running body; 0 when the system refuses.
static int start_thread(void *(*body)(void *)) {
  pthread_t id;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  const int ok = pthread_create(&id, &attr, body, NULL) == 0;
  pthread_attr_destroy(&attr);
  return ok;
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work = PTHREAD_COND_INITIALIZER, done = PTHREAD_COND_INITIALIZER;
static queue_t queue;
static int started;

// Under mu: runs t without the lock, then counts it finished.
static void run_task(task_t t) {
  pthread_mutex_unlock(&mu);
  t.fn(t.arg);
  pthread_mutex_lock(&mu);
  if (--*t.pending == 0) pthread_cond_broadcast(&done);
}

static void *serve(void *unused) {
  (void)unused;
#ifdef __linux__
  pthread_setname_np(pthread_self(), "recserve-scan");
  // The batch class: woken for a slice, it never preempts the event loop (see addon.c's execute).
  const struct sched_param none = {0};
  sched_setscheduler(0, SCHED_BATCH, &none);
  setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), getpriority(PRIO_PROCESS, 0) + SCORING_NICE);
#endif
  pthread_mutex_lock(&mu);
  for (;;) {
    task_t t;
    while (!take(&queue, &t)) pthread_cond_wait(&work, &mu);
    run_task(t);
  }
  return NULL;
}

// Under mu: at least n threads serve the queue (fewer if the system refuses more: callers run the rest).
static void grow(int n) {
  if (n > MAX_THREADS) n = MAX_THREADS;
  while (started < n && start_thread(serve)) started++;
}

int pool_threads(void) {
  pthread_mutex_lock(&mu);
  int n = started;
  pthread_mutex_unlock(&mu);
  return n;
}

void run_parallel(void *(*fn)(void *), void *args, size_t size, int slices, int threads) {
  if (threads <= 1 || slices <= 1) {
    for (int i = 0; i < slices; i++) fn((char *)args + size * i);
    return;
  }
  int pending = 0;
  pthread_mutex_lock(&mu);
  grow(threads - 1);
  for (int t = 1; t < slices; t++) {
    void *arg = (char *)args + size * t;
    if (put(&queue, (task_t){fn, arg, &pending})) {
      pending++;
      continue;
    }
    pthread_mutex_unlock(&mu);
    fn(arg);
    pthread_mutex_lock(&mu);
  }
  pthread_cond_broadcast(&work);
  pthread_mutex_unlock(&mu);
  fn(args);
  pthread_mutex_lock(&mu);
  while (pending > 0) {
    task_t t;
    if (take(&queue, &t)) run_task(t);
    else pthread_cond_wait(&done, &mu);
  }
  pthread_mutex_unlock(&mu);
}

// ---- background scans ----

// A background scan runs whole on a thread of its own, in Linux's idle scheduling class (it runs only on a
// core that nothing else wants): it takes the CPU that the event loop and the live scans leave. Nobody
// waits for it; it reports back itself. Their own lock, so that a thread the OS holds back never holds up a
// live scan.
static pthread_mutex_t later_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t later_work = PTHREAD_COND_INITIALIZER;
static queue_t later;
static int later_started, later_calls;  // threads started; scans queued or running

static void *serve_later(void *unused) {
  (void)unused;
#ifdef __linux__
  pthread_setname_np(pthread_self(), "recserve-scanbg");
  const struct sched_param none = {0};
  if (sched_setscheduler(0, SCHED_IDLE, &none) != 0) setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);
#endif
  pthread_mutex_lock(&later_mu);
  for (;;) {
    task_t t;
    while (!take(&later, &t)) pthread_cond_wait(&later_work, &later_mu);
    pthread_mutex_unlock(&later_mu);
    t.fn(t.arg);
    pthread_mutex_lock(&later_mu);
    later_calls--;
  }
  return NULL;
}

int run_in_background(void *(*fn)(void *), void *arg) {
  pthread_mutex_lock(&later_mu);
  // A thread for every background scan at once (started once and kept, as the helpers are).
  while (later_started <= later_calls && later_started < MAX_THREADS && start_thread(serve_later)) later_started++;
  const int queued = later_started > later_calls && put(&later, (task_t){fn, arg, NULL});
  if (queued) {
    later_calls++;
    pthread_cond_signal(&later_work);
  }
  pthread_mutex_unlock(&later_mu);
  return queued;
}
