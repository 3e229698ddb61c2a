/* dl_host.c -- loads dl_loop.c's plugin with dlopen (RTLD_LOCAL) and runs
 * its loop: a program that gets libev only after start-up, as a Python
 * program using gevent does. Links no libev itself.
 *
 *   dl_host PLUGIN.so N     prints "read N" and exits 0
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: dl_host PLUGIN.so N\n");
        return 2;
    }
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    int (*run)(int) = h ? (int (*)(int))dlsym(h, "dl_loop_run") : NULL;
    if (!run) {
        fprintf(stderr, "dl_host: %s\n", dlerror());
        return 1;
    }
    printf("read %d\n", run(atoi(argv[2])));
    return 0;
}
