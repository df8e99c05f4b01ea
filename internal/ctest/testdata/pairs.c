// pairs: N allocate+free pairs of one block size through a library's entry
// points, for counting instructions per pair with callgrind (make
// icount-pairs runs it). The process is made multi-threaded first, as every
// Go process is: glibc's malloc takes single-thread shortcuts otherwise.
//
//   pairs LIBRARY ALLOC ALLOCARGS FREE FREEARGS SIZE N
//
// ALLOCARGS is "size" (ALLOC(size)) or "size,0" (ALLOC(size, 0), mallocx);
// FREEARGS is "p", "p,size" (sized free) or "p,size,0" (sdallocx).
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *nothing(void *arg) { return arg; }

int main(int argc, char **argv) {
	if (argc != 8) {
		fprintf(stderr, "usage: pairs LIBRARY ALLOC ALLOCARGS FREE FREEARGS SIZE N\n");
		return 2;
	}
	void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		fprintf(stderr, "pairs: %s\n", dlerror());
		return 1;
	}
	void *alloc = dlsym(lib, argv[2]), *dealloc = dlsym(lib, argv[4]);
	if (!alloc || !dealloc) {
		fprintf(stderr, "pairs: %s or %s not in %s\n", argv[2], argv[4], argv[1]);
		return 1;
	}
	pthread_t t;
	pthread_create(&t, NULL, nothing, NULL);
	pthread_join(t, NULL);
	size_t size = strtoul(argv[6], NULL, 10);
	long n = strtol(argv[7], NULL, 10);
	int flagsArg = strcmp(argv[3], "size,0") == 0;
	int freeArgs = strcmp(argv[5], "p") == 0 ? 1 : strcmp(argv[5], "p,size") == 0 ? 2 : 3;
	void *(*a1)(size_t) = alloc;
	void *(*a2)(size_t, int) = alloc;
	void (*f1)(void *) = dealloc;
	void (*f2)(void *, size_t) = dealloc;
	void (*f3)(void *, size_t, int) = dealloc;
	for (long i = 0; i < n; i++) {
		void *p = flagsArg ? a2(size, 0) : a1(size);
		__asm__ volatile("" : : "r"(p) : "memory");
		switch (freeArgs) {
		case 1: f1(p); break;
		case 2: f2(p, size); break;
		default: f3(p, size, 0);
		}
	}
	return 0;
}
