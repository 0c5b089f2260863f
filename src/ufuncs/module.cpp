// The extension module actgrad._ufuncs: one numpy.ufunc per (activation, form),
// built from the entries that generate_registration.py derives from the table.
#define NPY_NO_DEPRECATED_API NPY_2_0_API_VERSION
#define PY_ARRAY_UNIQUE_SYMBOL actgrad_ARRAY_API
#define PY_UFUNC_UNIQUE_SYMBOL actgrad_UFUNC_API

#include "loops.hpp"

#include <numpy/arrayobject.h>

#include <cstring>

using namespace actgrad;

struct UfuncEntry {
    const char *name;
    const char *doc;
    LoopSet (*make_loops)();
    // A generalized ufunc's signature, such as "(n)->(n)"; null for elementwise.
    const char *signature = nullptr;
};

#include "registration.inc"

// Reject complex, object, string, void and datetime inputs with a message
// naming the function and the dtype, then defer to NumPy's linear search.
static int resolve_types(PyUFuncObject *ufunc, NPY_CASTING casting, PyArrayObject **operands,
                         PyObject *type_tup, PyArray_Descr **out_dtypes) {
    for (int i = 0; i < ufunc->nin; ++i) {
        PyArray_Descr *dtype = PyArray_DESCR(operands[i]);
        if (std::strchr("biuf", dtype->kind) == nullptr) {
            PyErr_Format(PyExc_TypeError,
                         "actgrad.%s: unsupported input dtype %S; expected real numbers "
                         "(bool, integer or floating point)",
                         ufunc->name, reinterpret_cast<PyObject *>(dtype));
            return -1;
        }
    }
    return PyUFunc_DefaultTypeResolver(ufunc, casting, operands, type_tup, out_dtypes);
}

static PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_ufuncs", "actgrad's ufuncs, generated from the activation table.",
    -1, nullptr, nullptr, nullptr, nullptr, nullptr,
};

PyMODINIT_FUNC PyInit__ufuncs(void) {
    import_array();
    import_umath();
    PyObject *module = PyModule_Create(&module_def);
    if (module == nullptr) return nullptr;
    static std::deque<LoopSet> loop_sets;
    PyObject *public_module = PyUnicode_FromString("actgrad.ufuncs");
    if (public_module == nullptr) goto fail;
    for (const UfuncEntry &entry : ufunc_entries) {
        LoopSet &set = loop_sets.emplace_back(entry.make_loops());
        PyObject *ufunc = PyUFunc_FromFuncAndDataAndSignature(
            set.functions.data(), set.data.data(), set.types.data(), int(set.functions.size()),
            set.n_in, set.n_out, PyUFunc_None, entry.name, entry.doc, 0, entry.signature);
        if (ufunc == nullptr) goto fail;
        reinterpret_cast<PyUFuncObject *>(ufunc)->type_resolver = resolve_types;
        if (PyObject_SetAttrString(ufunc, "__module__", public_module) < 0 ||
            PyModule_AddObject(module, entry.name, ufunc) < 0) {
            Py_DECREF(ufunc);
            goto fail;
        }
    }
    Py_DECREF(public_module);
    return module;
fail:
    Py_XDECREF(public_module);
    Py_DECREF(module);
    return nullptr;
}
