/*
 * fuzz_contract - the contract loader on any file: red_contract_load()
 * must return a contract or a message, never crash, leak or hang; a
 * contract it accepts is then checked against the shipped codegen
 * contract as red_contract_set_add() does for a contracts directory.
 */
#include "fuzz.h"

#include "red_contract.h"

#include <stdio.h>
#include <stdlib.h>

static red_contract_set_t set;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *path = fuzz_input_file(data, size);
        char err[2048];

        if (!set.cnt) {
                char *shipped = fuzz_src_path("contracts/codegen_metrics.yaml");
                if (red_contract_set_add(&set, shipped, err, sizeof(err))) {
                        fprintf(stderr, "fuzz_contract: %s\n", err);
                        abort();
                }
                free(shipped);
        }
        /* the set owns what it adds; the fuzzed one is taken out again */
        if (!red_contract_set_add(&set, path, err, sizeof(err))) {
                red_contract_destroy(set.items[--set.cnt]);
        }
        return 0;
}
