/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * From a message to a method: parse the call (a broken message ends the
 * connection, as varlink wants), find the method (MethodNotFound or
 * InterfaceNotFound), check access (PermissionDenied) and parameters
 * (InvalidParameter naming the first bad one), then run it.  Also
 * org.varlink.service itself.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "varlink-internal.h"

static const char service_idl[] =
        "# The Varlink Service Interface is provided by every varlink service. It\n"
        "# describes the service and the interfaces it implements.\n"
        "interface org.varlink.service\n"
        "\n"
        "# Get a list of all the interfaces a service provides and information\n"
        "# about the implementation.\n"
        "method GetInfo() -> (\n"
        "  vendor: string,\n"
        "  product: string,\n"
        "  version: string,\n"
        "  url: string,\n"
        "  interfaces: []string\n"
        ")\n"
        "\n"
        "# Get the description of an interface that is implemented by this service.\n"
        "method GetInterfaceDescription(interface: string) -> (description: string)\n"
        "\n"
        "# The requested interface was not found.\n"
        "error InterfaceNotFound (interface: string)\n"
        "\n"
        "# The requested method was not found\n"
        "error MethodNotFound (method: string)\n"
        "\n"
        "# The interface defines the requested method, but the service does not\n"
        "# implement it.\n"
        "error MethodNotImplemented (method: string)\n"
        "\n"
        "# One of the passed parameters is invalid.\n"
        "error InvalidParameter (parameter: string)\n"
        "\n"
        "# Client is denied access\n"
        "error PermissionDenied ()\n"
        "\n"
        "# Method is expected to be called with 'more' set to true, but wasn't\n"
        "error ExpectedMore ()\n";

static const struct {
        const char *name;
        const char *idl;
} interfaces[] = {
        { "org.varlink.service", service_idl },
        { "io.mmpd", varlink_io_mmpd_idl },
};

/* ---- org.varlink.service ------------------------------------------------------- */

static int m_get_info(struct vl_call *c)
{
        json_t *ifaces = json_array();

        for (size_t i = 0; ifaces && i < ELEMENTSOF(interfaces); i++)
                if (json_array_append_new(ifaces, json_string(interfaces[i].name)) < 0) {
                        json_decref(ifaces);
                        return vl_reply(c, NULL, true);
                }
        return vl_reply(c, json_pack("{s:s,s:s,s:s,s:s,s:o}", "vendor", "mmpd", "product", "mmpd",
                                     "version", PACKAGE_VERSION, "url", PACKAGE_URL,
                                     "interfaces", ifaces), true);
}

static int m_get_interface_description(struct vl_call *c)
{
        const char *name = json_string_value(json_object_get(c->params, "interface"));

        for (size_t i = 0; i < ELEMENTSOF(interfaces); i++)
                if (strcmp(name, interfaces[i].name) == 0)
                        return vl_reply(c, json_pack("{s:s}", "description", interfaces[i].idl), true);
        return vl_reply_service_error(c, "InterfaceNotFound", "interface", name);
}

static const struct vl_param no_params[] = { { NULL } };
static const struct vl_param description_params[] = {
        { "interface", JSON_STRING, true },
        { NULL },
};

static const struct vl_method service_methods[] = {
        { "org.varlink.service.GetInfo", m_get_info, false, no_params },
        { "org.varlink.service.GetInterfaceDescription", m_get_interface_description, false,
          description_params },
        { NULL },
};

/* ---- dispatch ------------------------------------------------------------------ */

static const struct vl_method *find_method(const char *name)
{
        const struct vl_method *tables[] = { service_methods, vl_io_mmpd_methods };

        for (size_t t = 0; t < ELEMENTSOF(tables); t++)
                for (const struct vl_method *m = tables[t]; m->name; m++)
                        if (strcmp(m->name, name) == 0)
                                return m;
        return NULL;
}

/* The first parameter that is unknown, of the wrong type or missing. */
static const char *bad_parameter(const struct vl_param *spec, json_t *params)
{
        const char *key;
        json_t *v;

        json_object_foreach(params, key, v) {
                const struct vl_param *p = spec;

                while (p->name && strcmp(p->name, key) != 0)
                        p++;
                if (!p->name)
                        return key;
                if (json_is_null(v) && !p->required)
                        continue;
                /* JSON_TRUE in a spec stands for "a boolean". */
                if (p->type == JSON_TRUE ? !json_is_boolean(v) : (int) json_typeof(v) != p->type)
                        return key;
                /* Device paths and names are C strings: no embedded NUL. */
                if (p->type == JSON_STRING && strlen(json_string_value(v)) != json_string_length(v))
                        return key;
        }
        for (const struct vl_param *p = spec; p->name; p++)
                if (p->required && !json_object_get(params, p->name))
                        return p->name;
        return NULL;
}

void vl_dispatch(struct vl_conn *c, const char *msg, size_t len)
{
        struct mmp_varlink_call vc;
        const struct vl_method *m;
        struct vl_call *call;
        const char *bad;
        json_t *root;
        int r;

        r = mmp_varlink_call_parse(msg, len, &root, &vc);
        if (r < 0) {
                /* varlink: a message that is not a call ends the connection */
                vl_conn_close(c, r == -EBADMSG ? LOG_NOTICE : LOG_ERR,
                           r == -EBADMSG ? "broken message (not a varlink call)" : "out of memory");
                return;
        }
        call = calloc(1, sizeof(*call));
        if (!call) {
                json_decref(root);
                vl_conn_close(c, LOG_ERR, "out of memory");
                return;
        }
        call->conn = c;
        call->root = root;
        call->method = vc.method;
        call->params = vc.parameters;
        call->oneway = vc.oneway;
        call->more = vc.more && !vc.oneway;
        c->call = call;

        m = find_method(vc.method);
        if (!m) {
                const char *dot = strrchr(vc.method, '.');
                size_t ilen = dot ? (size_t) (dot - vc.method) : 0;

                for (size_t i = 0; i < ELEMENTSOF(interfaces); i++)
                        if (strlen(interfaces[i].name) == ilen &&
                            strncmp(interfaces[i].name, vc.method, ilen) == 0) {
                                vl_reply_service_error(call, "MethodNotFound", "method", vc.method);
                                return;
                        }
                {
                        _cleanup_free_ char *iface = strndup(vc.method, ilen);

                        vl_reply_service_error(call, "InterfaceNotFound", "interface", iface ? iface : "");
                }
                return;
        }
        if (vc.upgrade) {
                vl_reply_service_error(call, "InvalidParameter", "parameter", "upgrade");
                return;
        }
        if (m->privileged && !vl_conn_privileged(c)) {
                vl_reply_service_error(call, "PermissionDenied", NULL, NULL);
                return;
        }
        bad = bad_parameter(m->params, call->params);
        if (bad) {
                vl_reply_service_error(call, "InvalidParameter", "parameter", bad);
                return;
        }
        r = m->call(call);
        if (r < 0)
                vl_conn_close(c, LOG_ERR, strerror(-r));
}
