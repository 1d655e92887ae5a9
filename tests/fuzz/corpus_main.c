/*
 * The fuzz targets without libFuzzer: runs LLVMFuzzerTestOneInput once on every file of the
 * directories (or files) named on the command line - the committed seed corpus, under the
 * suite's ASan and UBSan build. tests/fuzz/run builds the same targets with clang's libFuzzer
 * for real fuzzing.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define INPUT_BYTES_MAX (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path, unsigned *count)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        perror(path);
        return 1;
    }
    static uint8_t data[INPUT_BYTES_MAX];
    size_t size = fread(data, 1, sizeof(data), file);
    fclose(file);
    /* A copy of exactly the input's size, so that ASan sees any read past its end. */
    uint8_t *copy = malloc(size > 0 ? size : 1);
    if (copy == NULL)
        return 1;
    memcpy(copy, data, size);
    LLVMFuzzerTestOneInput(copy, size);
    free(copy);
    (*count)++;
    return 0;
}

int main(int argc, char **argv)
{
    unsigned count = 0;
    for (int i = 1; i < argc; i++) {
        struct stat info;
        if (stat(argv[i], &info) != 0) {
            perror(argv[i]);
            return 1;
        }
        if (!S_ISDIR(info.st_mode)) {
            if (run_file(argv[i], &count) != 0)
                return 1;
            continue;
        }
        DIR *dir = opendir(argv[i]);
        struct dirent *entry;
        while (dir != NULL && (entry = readdir(dir)) != NULL) {
            if (entry->d_name[0] == '.')
                continue;
            char path[4096];
            snprintf(path, sizeof(path), "%s/%s", argv[i], entry->d_name);
            if (run_file(path, &count) != 0) {
                closedir(dir);
                return 1;
            }
        }
        if (dir != NULL)
            closedir(dir);
    }
    printf("%u inputs, no failure\n", count);
    return count > 0 ? 0 : 1;
}
