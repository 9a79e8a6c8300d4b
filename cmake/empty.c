/* An empty translation unit for modules that have no sources yet. */
typedef int hp_empty_module;
