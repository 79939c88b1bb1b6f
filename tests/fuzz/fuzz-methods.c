/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Each io.mmpd method's parameters, through the same server path as
 * fuzz-varlink.  Input: one selector byte, then a JSON value (the
 * "parameters").  The selector picks the method (low 4 bits), oneway/more
 * (bits 4, 5) and the peer (bit 6: unprivileged).  The call is followed by
 * a List, so what the call left behind is serialised too.  Inputs that are
 * not JSON are rejected (fuzz-varlink covers those).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz-server.h"

static const char *const methods[] = {
        "io.mmpd.List", "io.mmpd.Claim", "io.mmpd.ClaimFd", "io.mmpd.Release",
        "io.mmpd.Handoff", "io.mmpd.EndUse", "io.mmpd.Check", "io.mmpd.Watch",
        "io.mmpd.Inspect",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        json_t *params, *call;
        char *msg, *list = NULL, *wire;
        size_t n_msg, n_list;
        unsigned sel;

        if (size < 1)
                return -1;
        sel = data[0];
        params = json_loadb((const char *) data + 1, size - 1, JSON_DECODE_ANY, NULL);
        if (!params)
                return -1;
        call = json_pack("{s:s, s:o}", "method", methods[(sel & 0xf) % (sizeof(methods) / sizeof(*methods))],
                         "parameters", params);
        if (!call)
                abort();
        if (sel & 0x10)
                json_object_set_new(call, "oneway", json_true());
        if (sel & 0x20)
                json_object_set_new(call, "more", json_true());
        msg = json_dumps(call, JSON_COMPACT);
        list = strdup("{\"method\":\"io.mmpd.List\"}");
        if (!msg || !list)
                abort();
        n_msg = strlen(msg) + 1;
        n_list = strlen(list) + 1;
        wire = malloc(n_msg + n_list);
        if (!wire)
                abort();
        memcpy(wire, msg, n_msg);
        memcpy(wire + n_msg, list, n_list);
        if (sel & 0x40)
                fuzz_server_run((const uint8_t *) wire, n_msg + n_list, 65534, 65534);
        else
                fuzz_server_run((const uint8_t *) wire, n_msg + n_list, 0, 0);
        free(wire);
        free(list);
        free(msg);
        json_decref(call);
        return 0;
}
