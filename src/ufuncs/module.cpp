// The extension module actgrad._ufuncs: one numpy.ufunc per (activation, form),
// built from the entries that generate_registration.py derives from the table.
#define NPY_NO_DEPRECATED_API NPY_2_0_API_VERSION
#define PY_ARRAY_UNIQUE_SYMBOL actgrad_ARRAY_API
#define PY_UFUNC_UNIQUE_SYMBOL actgrad_UFUNC_API

#include "registration.hpp"

#include <numpy/arrayobject.h>

#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

using namespace actgrad;

// The parts ufunc_parts[] (one per generated translation unit).
#include "registration.inc"

// ---------------------------------------------------------------------------
// bfloat16: ml_dtypes.bfloat16 is a user dtype whose type number is known
// only once ml_dtypes is imported, which actgrad never does itself.  Each
// ufunc's bfloat16 loop (LoopSet::bfloat16_function) is registered for it
// when actgrad is imported after ml_dtypes (actgrad/_bfloat16.py) or when a
// bfloat16 array first reaches a ufunc (resolve_types below).

// Every ufunc with its loops, in registration order.
static std::vector<std::pair<PyUFuncObject *, const LoopSet *>> all_ufuncs;
// The registered bfloat16 type number, or -1.
static int bfloat16_type = -1;

static int register_bfloat16(PyArray_Descr *descr) {
    const int type = descr->type_num;
    if (bfloat16_type == type) return 0;
    if (bfloat16_type >= 0) {
        PyErr_SetString(PyExc_RuntimeError, "actgrad: a different bfloat16 dtype is registered");
        return -1;
    }
    if (type < NPY_USERDEF || descr->elsize != 2) {
        PyErr_Format(PyExc_TypeError, "actgrad: %S is not ml_dtypes.bfloat16",
                     reinterpret_cast<PyObject *>(descr));
        return -1;
    }
    for (const auto &[ufunc, set] : all_ufuncs) {
        std::vector<int> types(set->bfloat16_types);
        for (int &t : types) {
            if (t < 0) t = type;
        }
        if (PyUFunc_RegisterLoopForType(ufunc, type, set->bfloat16_function, types.data(),
                                        nullptr) < 0) {
            return -1;
        }
    }
    bfloat16_type = type;
    return 0;
}

// 1 if `descr` is ml_dtypes.bfloat16 (ml_dtypes is imported: one of its
// arrays exists), 0 if not, -1 on error.
static int is_ml_dtypes_bfloat16(PyArray_Descr *descr) {
    if (descr->type_num < NPY_USERDEF || descr->elsize != 2) return 0;
    PyObject *modules = PyImport_GetModuleDict();  // borrowed
    PyObject *ml_dtypes = PyDict_GetItemString(modules, "ml_dtypes");  // borrowed
    if (ml_dtypes == nullptr) return 0;
    PyObject *scalar = PyObject_GetAttrString(ml_dtypes, "bfloat16");
    if (scalar == nullptr) {
        PyErr_Clear();
        return 0;
    }
    const int same = scalar == reinterpret_cast<PyObject *>(descr->typeobj);
    Py_DECREF(scalar);
    return same;
}

static PyObject *py_register_bfloat16(PyObject *, PyObject *arg) {
    if (!PyArray_DescrCheck(arg)) {
        PyErr_SetString(PyExc_TypeError, "actgrad._ufuncs._register_bfloat16: expected a dtype");
        return nullptr;
    }
    if (register_bfloat16(reinterpret_cast<PyArray_Descr *>(arg)) < 0) return nullptr;
    Py_RETURN_NONE;
}

static PyObject *py_bfloat16_type(PyObject *, PyObject *) {
    return PyLong_FromLong(bfloat16_type);
}

// ---------------------------------------------------------------------------
// Threads (pool.hpp).  threadpoolctl reads and sets the count through the
// C functions below, by ctypes on this shared library (actgrad/_threads.py).

extern "C" {
__attribute__((visibility("default"))) int actgrad_get_num_threads(void) {
    return num_threads.load(std::memory_order_relaxed);
}
__attribute__((visibility("default"))) void actgrad_set_num_threads(int n) {
    num_threads.store(n < 1 ? 1 : n > max_threads ? max_threads : n, std::memory_order_relaxed);
}
__attribute__((visibility("default"))) const char *actgrad_get_version(void) {
    return ACTGRAD_VERSION;
}
}

static PyObject *py_set_num_threads(PyObject *, PyObject *arg) {
    const long n = PyLong_AsLong(arg);
    if (n == -1 && PyErr_Occurred()) return nullptr;
    if (n < 1 || n > max_threads) {
        PyErr_Format(PyExc_ValueError,
                     "actgrad.set_num_threads: expected a thread count from 1 to %d, got %ld",
                     max_threads, n);
        return nullptr;
    }
    const int previous = actgrad_get_num_threads();
    actgrad_set_num_threads(int(n));
    return PyLong_FromLong(previous);
}

static PyObject *py_get_num_threads(PyObject *, PyObject *) {
    return PyLong_FromLong(actgrad_get_num_threads());
}

// Tests: the smallest loop that is split (returns the previous one).
static PyObject *py_set_parallel_min(PyObject *, PyObject *arg) {
    const Py_ssize_t n = PyLong_AsSsize_t(arg);
    if (n == -1 && PyErr_Occurred()) return nullptr;
    if (n < 2) {
        PyErr_SetString(PyExc_ValueError, "actgrad._ufuncs._set_parallel_min: expected >= 2");
        return nullptr;
    }
    return PyLong_FromSsize_t(parallel_min.exchange(npy_intp(n)));
}

static PyObject *py_pool_workers(PyObject *, PyObject *) {
    Pool *pool = pool_slot().load(std::memory_order_acquire);
    return PyLong_FromLong(pool == nullptr ? 0 : pool->workers());
}

// Reject complex, object, string, void and datetime inputs with a message
// naming the function and the dtype, then defer to NumPy's linear search.
static int resolve_types(PyUFuncObject *ufunc, NPY_CASTING casting, PyArrayObject **operands,
                         PyObject *type_tup, PyArray_Descr **out_dtypes) {
    for (int i = 0; i < ufunc->nin; ++i) {
        PyArray_Descr *dtype = PyArray_DESCR(operands[i]);
        if (dtype->type_num >= NPY_USERDEF && dtype->type_num != bfloat16_type) {
            const int bf16 = is_ml_dtypes_bfloat16(dtype);
            if (bf16 < 0) return -1;
            if (bf16 && register_bfloat16(dtype) < 0) return -1;
        }
        if (std::strchr("biuf", dtype->kind) == nullptr && dtype->type_num != bfloat16_type) {
            PyErr_Format(PyExc_TypeError,
                         "actgrad.%s: unsupported input dtype %S; expected real numbers "
                         "(bool, integer, floating point or ml_dtypes.bfloat16)",
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
    {"_register_bfloat16", py_register_bfloat16, METH_O,
     "_register_bfloat16(dtype): register every ufunc's bfloat16 loop for ml_dtypes.bfloat16."},
    {"_bfloat16_type", py_bfloat16_type, METH_NOARGS,
     "The type number the bfloat16 loops are registered for, or -1."},
    {"_set_num_threads", py_set_num_threads, METH_O,
     "_set_num_threads(n) -> previous: the threads a large loop may use."},
    {"_get_num_threads", py_get_num_threads, METH_NOARGS, "The threads a large loop may use."},
    {"_set_parallel_min", py_set_parallel_min, METH_O,
     "_set_parallel_min(n) -> previous: loops over fewer elements stay on one thread."},
    {"_pool_workers", py_pool_workers, METH_NOARGS, "How many worker threads exist now."},
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
    all_ufuncs.emplace_back(reinterpret_cast<PyUFuncObject *>(ufunc), &set);
    // __module__ makes the ufuncs pickle by reference to actgrad.ufuncs;
    // NumPy 2.0's ufuncs have no such attribute (pickle then finds them by
    // name in the loaded modules).
    if (PyObject_SetAttrString(ufunc, "__module__", public_module) < 0) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError)) {
            Py_DECREF(ufunc);
            return -1;
        }
        PyErr_Clear();
    }
    if (PyModule_AddObject(module, entry.name, ufunc) < 0) {
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
    if (Py_AtExit(&pool_shutdown) < 0) {
        PyErr_SetString(PyExc_RuntimeError, "actgrad: cannot register the thread pool's exit");
        return nullptr;
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
