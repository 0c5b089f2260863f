// The extension module actgrad._ufuncs: one numpy.ufunc per (activation, form),
// built from the entries that generate_registration.py derives from the table.
#define NPY_NO_DEPRECATED_API NPY_2_0_API_VERSION
#define PY_ARRAY_UNIQUE_SYMBOL actgrad_ARRAY_API
#define PY_UFUNC_UNIQUE_SYMBOL actgrad_UFUNC_API

#include "registration.hpp"

#include <numpy/arrayobject.h>

#include <cstdlib>
#include <cstring>

using namespace actgrad;

// The parts ufunc_parts[] (one per generated translation unit).
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

// The instruction set level named `name`, or -1.
static int isa_by_name(const char *name) {
    for (int i = 0; i <= isa_avx512; ++i) {
        if (std::strcmp(name, isa_names[i]) == 0) return i;
    }
    return -1;
}

// Set the level the loops run with; ValueError if unknown or unsupported here.
static int set_isa(const char *name, const char *origin) {
    const int isa = isa_by_name(name);
    const int best = best_isa();
    if (isa < 0) {
        PyErr_Format(PyExc_ValueError,
                     "actgrad: %s='%s' is not an instruction set; expected 'baseline', 'avx2' "
                     "or 'avx512'", origin, name);
        return -1;
    }
    if (isa > best) {
        PyErr_Format(PyExc_ValueError,
                     "actgrad: %s='%s' is not supported by this CPU or build (best: '%s')",
                     origin, name, isa_names[best]);
        return -1;
    }
    active_isa.store(isa, std::memory_order_relaxed);
    return 0;
}

static PyObject *py_set_isa(PyObject *, PyObject *arg) {
    if (!PyUnicode_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "actgrad._ufuncs._set_isa: expected a str");
        return nullptr;
    }
    const char *name = PyUnicode_AsUTF8(arg);
    if (name == nullptr) return nullptr;
    const int previous = current_isa();
    if (set_isa(name, "isa") < 0) return nullptr;
    return PyUnicode_FromString(isa_names[previous]);
}

static PyObject *py_get_isa(PyObject *, PyObject *) {
    return PyUnicode_FromString(isa_names[current_isa()]);
}

static PyObject *py_supported_isas(PyObject *, PyObject *) {
    const int best = best_isa();
    PyObject *out = PyTuple_New(best + 1);
    if (out == nullptr) return nullptr;
    for (int i = 0; i <= best; ++i) {
        PyObject *name = PyUnicode_FromString(isa_names[i]);
        if (name == nullptr) {
            Py_DECREF(out);
            return nullptr;
        }
        PyTuple_SET_ITEM(out, i, name);
    }
    return out;
}

static PyMethodDef module_methods[] = {
    {"_set_isa", py_set_isa, METH_O,
     "_set_isa(name) -> previous: run the loops with instruction set `name` ('baseline', "
     "'avx2', 'avx512'); every level gives the same bits."},
    {"_get_isa", py_get_isa, METH_NOARGS, "The instruction set the loops run with."},
    {"_supported_isas", py_supported_isas, METH_NOARGS,
     "The instruction sets this CPU and build can run, lowest first."},
    {nullptr, nullptr, 0, nullptr},
};

static PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_ufuncs", "actgrad's ufuncs, generated from the activation table.",
    -1, module_methods, nullptr, nullptr, nullptr, nullptr,
};

static int add_ufunc(PyObject *module, PyObject *public_module, const UfuncEntry &entry) {
    static std::deque<LoopSet> loop_sets;
    LoopSet &set = loop_sets.emplace_back(entry.make_loops());
    PyObject *ufunc = PyUFunc_FromFuncAndDataAndSignature(
        set.functions.data(), set.data.data(), set.types.data(), int(set.functions.size()),
        set.n_in, set.n_out, PyUFunc_None, entry.name, entry.doc, 0, entry.signature);
    if (ufunc == nullptr) return -1;
    reinterpret_cast<PyUFuncObject *>(ufunc)->type_resolver = resolve_types;
    if (PyObject_SetAttrString(ufunc, "__module__", public_module) < 0 ||
        PyModule_AddObject(module, entry.name, ufunc) < 0) {
        Py_DECREF(ufunc);
        return -1;
    }
    return 0;
}

PyMODINIT_FUNC PyInit__ufuncs(void) {
    import_array();
    import_umath();
    const char *forced = std::getenv("ACTGRAD_CPU");
    if (forced != nullptr && *forced != '\0') {
        if (set_isa(forced, "ACTGRAD_CPU") < 0) return nullptr;
    } else {
        active_isa.store(best_isa(), std::memory_order_relaxed);
    }
    PyObject *module = PyModule_Create(&module_def);
    if (module == nullptr) return nullptr;
    PyObject *public_module = PyUnicode_FromString("actgrad.ufuncs");
    if (public_module == nullptr) {
        Py_DECREF(module);
        return nullptr;
    }
    for (const UfuncEntries *part : ufunc_parts) {
        for (std::size_t k = 0; k < part->size; ++k) {
            if (add_ufunc(module, public_module, part->entries[k]) < 0) {
                Py_DECREF(public_module);
                Py_DECREF(module);
                return nullptr;
            }
        }
    }
    Py_DECREF(public_module);
    return module;
}
