/* stream_c: a plain C STREAM triad, the reference accelbench's STREAM workload is compared against
 * (bench/stream-vs-c.sh builds it with gcc -O3 -march=native).
 *
 *   usage: stream_c [threads [elements]]     defaults: 1 thread, 2^25 doubles per array
 *
 * The classic kernel a[j] = b[j] + q * c[j] over three arrays of doubles, split into one contiguous
 * slice per thread (pthreads, no OpenMP); each thread first-touches its own slice so its pages are local.
 * The default 2^25 doubles is 256 MiB per array, 768 MiB in all, far beyond any L3 (STREAM asks for 4x
 * the last-level cache). Each of 20 repetitions is timed from a barrier that releases all threads to the
 * moment the last one finishes; bandwidth follows the STREAM rule, 24 bytes per element (read b, read c,
 * write a; the write-allocate read of a is not counted). Prints best and median.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REPS 20
#define BYTES_PER_ELEMENT 24.0

static double *a, *b, *c;
static size_t n;
static int nthreads;
static const double q = 3.0;
static pthread_barrier_t start_barrier, end_barrier;
static double times[REPS];

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void *worker(void *arg) {
    int t = (int)(size_t)arg;
    cpu_set_t set; /* pin thread t to CPU t when that CPU exists; ignore failures */
    CPU_ZERO(&set);
    CPU_SET(t % CPU_SETSIZE, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);

    size_t lo = n * (size_t)t / (size_t)nthreads, hi = n * (size_t)(t + 1) / (size_t)nthreads;
    for (size_t j = lo; j < hi; j++) { /* first touch by the thread that will use the slice */
        a[j] = 1.0;
        b[j] = 2.0;
        c[j] = 0.5;
    }
    for (int r = 0; r < REPS; r++) {
        pthread_barrier_wait(&start_barrier);
        double t0 = now();
        for (size_t j = lo; j < hi; j++) a[j] = b[j] + q * c[j];
        pthread_barrier_wait(&end_barrier);
        if (t == 0) times[r] = now() - t0;
    }
    return NULL;
}

static int cmp_double(const void *x, const void *y) {
    double u = *(const double *)x, v = *(const double *)y;
    return (u > v) - (u < v);
}

int main(int argc, char **argv) {
    nthreads = argc > 1 ? atoi(argv[1]) : 1;
    n = argc > 2 ? strtoull(argv[2], NULL, 0) : (size_t)1 << 25;
    if (nthreads < 1 || nthreads > 1024 || n < (size_t)nthreads) {
        fprintf(stderr, "usage: %s [threads [elements]]\n", argv[0]);
        return 2;
    }
    a = aligned_alloc(64, (n * sizeof(double) + 63) / 64 * 64);
    b = aligned_alloc(64, (n * sizeof(double) + 63) / 64 * 64);
    c = aligned_alloc(64, (n * sizeof(double) + 63) / 64 * 64);
    if (!a || !b || !c) {
        fprintf(stderr, "out of memory for 3 x %zu doubles\n", n);
        return 1;
    }
    pthread_barrier_init(&start_barrier, NULL, (unsigned)nthreads);
    pthread_barrier_init(&end_barrier, NULL, (unsigned)nthreads);
    pthread_t *threads = calloc((size_t)nthreads, sizeof *threads);
    for (int t = 0; t < nthreads; t++) pthread_create(&threads[t], NULL, worker, (void *)(size_t)t);
    for (int t = 0; t < nthreads; t++) pthread_join(threads[t], NULL);

    for (size_t j = 0; j < n; j++) { /* every repetition computes 2 + 3 * 0.5 */
        if (a[j] != 3.5) {
            fprintf(stderr, "validation failed at %zu: %g\n", j, a[j]);
            return 1;
        }
    }
    qsort(times, REPS, sizeof(double), cmp_double);
    double bytes = BYTES_PER_ELEMENT * (double)n;
    printf("stream_c triad: %d thread%s, %zu doubles x 3 (%.0f MiB): best %.1f GB/s, median %.1f GB/s\n", nthreads,
           nthreads == 1 ? "" : "s", n, 3.0 * (double)n * sizeof(double) / 1048576.0, bytes / times[0] / 1e9,
           bytes / times[REPS / 2] / 1e9);
    free(threads);
    free(a);
    free(b);
    free(c);
    return 0;
}
