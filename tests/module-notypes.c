/* A shared object that is no mgr module (no mgr_module_types): mgrd must
 * refuse to start with it (tests/test-integ-module.c). */
__attribute__((visibility("default"))) int module_notypes_marker = 1;
