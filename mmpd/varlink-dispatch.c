/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * From a message to a method: parse the call (a broken message ends the
 * connection, as varlink wants), find the method in the registered tables
 * (MethodNotFound or InterfaceNotFound), check access (PermissionDenied)
 * and parameters (InvalidParameter naming the first bad one), then run it.
 * Also org.varlink.service itself, from what was registered.
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

/* ---- org.varlink.service ------------------------------------------------------- */

static int m_get_info(struct vl_call *c, void *userdata)
{
        struct varlink_server *s = c->conn->s;
        json_t *ifaces = json_array();

        if (ifaces && json_array_append_new(ifaces, json_string(MMP_VARLINK_SERVICE)) < 0)
                goto oom;
        for (unsigned i = 0; ifaces && i < s->n_interfaces; i++)
                if (json_array_append_new(ifaces, json_string(s->interfaces[i].name)) < 0)
                        goto oom;
        return vl_reply(c, json_pack("{s:s,s:s,s:s,s:s,s:o}",
                                     "vendor", s->info_vendor ? s->info_vendor : "",
                                     "product", s->info_product ? s->info_product : "",
                                     "version", s->info_version ? s->info_version : "",
                                     "url", s->info_url ? s->info_url : "",
                                     "interfaces", ifaces), true);
oom:
        json_decref(ifaces);
        return vl_reply(c, NULL, true);
}

static const struct vl_interface *find_interface(struct varlink_server *s, const char *name, size_t len)
{
        for (unsigned i = 0; i < s->n_interfaces; i++)
                if (strlen(s->interfaces[i].name) == len && strncmp(s->interfaces[i].name, name, len) == 0)
                        return &s->interfaces[i];
        return NULL;
}

static int m_get_interface_description(struct vl_call *c, void *userdata)
{
        const char *name = json_string_value(json_object_get(c->params, "interface"));
        const struct vl_interface *iface;

        if (strcmp(name, MMP_VARLINK_SERVICE) == 0)
                return vl_reply(c, json_pack("{s:s}", "description", service_idl), true);
        iface = find_interface(c->conn->s, name, strlen(name));
        if (iface)
                return vl_reply(c, json_pack("{s:s}", "description", iface->description), true);
        return vl_reply_service_error(c, "InterfaceNotFound", "interface", name);
}

static const struct vl_param no_params[] = { { NULL } };
static const struct vl_param description_params[] = {
        { "interface", JSON_STRING, true },
        { NULL },
};

static const struct vl_method service_methods[] = {
        { MMP_VARLINK_SERVICE ".GetInfo", m_get_info, 0, no_params },
        { MMP_VARLINK_SERVICE ".GetInterfaceDescription", m_get_interface_description, 0,
          description_params },
        { NULL },
};

/* ---- dispatch ------------------------------------------------------------------ */

/* The method and the userdata for it; NULL when no table has it. */
static const struct vl_method *find_method(struct varlink_server *s, const char *name, void **ret_userdata)
{
        for (const struct vl_method *m = service_methods; m->name; m++)
                if (strcmp(m->name, name) == 0) {
                        *ret_userdata = NULL;
                        return m;
                }
        for (unsigned i = 0; i < s->n_interfaces; i++)
                for (const struct vl_method *m = s->interfaces[i].methods; m->name; m++)
                        if (strcmp(m->name, name) == 0) {
                                *ret_userdata = s->interfaces[i].userdata;
                                return m;
                        }
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
        void *userdata = NULL;
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

        m = find_method(c->s, vc.method, &userdata);
        if (!m) {
                const char *dot = strrchr(vc.method, '.');
                size_t ilen = dot ? (size_t) (dot - vc.method) : 0;

                if ((ilen == strlen(MMP_VARLINK_SERVICE) && strncmp(vc.method, MMP_VARLINK_SERVICE, ilen) == 0) ||
                    find_interface(c->s, vc.method, ilen)) {
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
        if ((m->flags & VL_METHOD_PRIVILEGED) && !vl_conn_privileged(c)) {
                vl_reply_service_error(call, "PermissionDenied", NULL, NULL);
                return;
        }
        bad = bad_parameter(m->params, call->params);
        if (bad) {
                vl_reply_service_error(call, "InvalidParameter", "parameter", bad);
                return;
        }
        r = m->call(call, userdata);
        if (r < 0)
                vl_conn_close(c, LOG_ERR, strerror(-r));
}
