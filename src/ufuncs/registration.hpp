// What each generated translation unit (ufuncs_N.cpp, from the activation
// table by generate_registration.py) contributes to the module: one entry
// per ufunc, with the factory of its loops.
#pragma once

#include <cstddef>

#include "loops.hpp"

namespace actgrad {

struct UfuncEntry {
    const char *name;
    const char *doc;
    LoopSet (*make_loops)();
    // A generalized ufunc's signature, such as "(n)->(n)"; null for elementwise.
    const char *signature = nullptr;
};

struct UfuncEntries {
    const UfuncEntry *entries;
    std::size_t size;
};

}  // namespace actgrad
