# Shared build settings and the two helpers every directory uses: hp_module and hp_test.

# Warnings on and fatal, for gcc and clang alike.
set(HP_WARNINGS -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
    -Wpointer-arith -Wformat=2 -Wno-unused-parameter -Wvla)

add_library(hp_flags INTERFACE)
target_compile_options(hp_flags INTERFACE ${HP_WARNINGS})
target_compile_definitions(hp_flags INTERFACE _POSIX_C_SOURCE=200809L _DEFAULT_SOURCE)
if(HP_NATIVE AND NOT HP_SANITIZE)
  target_compile_options(hp_flags INTERFACE -march=native)
else()
  target_compile_options(hp_flags INTERFACE -mavx2 -mfma)
endif()
if(HP_SANITIZE)
  target_compile_options(hp_flags INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(hp_flags INTERFACE -fsanitize=address,undefined)
endif()

# Everything the library links against, as one interface target.
add_library(hp_deps INTERFACE)
target_link_libraries(hp_deps INTERFACE hp_flags)

# hp_module(NAME [DIR dir] [DEPS a b ...]): every .c file in the directory becomes part of the
# object library hp_NAME. Modules are compiled separately so that one module's tests build while
# another module is being edited.
function(hp_module name)
  cmake_parse_arguments(M "" "DIR" "DEPS" ${ARGN})
  if(NOT M_DIR)
    set(M_DIR src/${name})
  endif()
  file(GLOB srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/${M_DIR}/*.c)
  if(NOT srcs)
    set(srcs ${PROJECT_SOURCE_DIR}/cmake/empty.c)
  endif()
  add_library(hp_${name} OBJECT ${srcs})
  target_include_directories(hp_${name} PUBLIC ${PROJECT_SOURCE_DIR}/include PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(hp_${name} PUBLIC hp_deps)
  set_target_properties(hp_${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  set_property(GLOBAL PROPERTY HP_DEPS_${name} "${M_DEPS}")
endfunction()

# Collect the transitive module dependencies of a list of modules.
function(hp_collect out)
  set(seen)
  set(todo ${ARGN})
  while(todo)
    list(POP_FRONT todo m)
    if(NOT m IN_LIST seen)
      list(APPEND seen ${m})
      get_property(d GLOBAL PROPERTY HP_DEPS_${m})
      list(APPEND todo ${d})
    endif()
  endwhile()
  set(${out} ${seen} PARENT_SCOPE)
endfunction()

# hp_test(NAME SOURCES a.c ... MODULES m1 m2 ... [LABELS l] [TIMEOUT s]): a cmocka test executable
# linked only against the modules it needs, registered with ctest.
function(hp_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;MODULES;LABELS" ${ARGN})
  hp_collect(mods ${T_MODULES})
  set(objs)
  foreach(m ${mods})
    list(APPEND objs $<TARGET_OBJECTS:hp_${m}>)
  endforeach()
  add_executable(${name} ${T_SOURCES} ${objs})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
  target_link_libraries(${name} PRIVATE hp_deps PkgConfig::CMOCKA)
  target_compile_definitions(${name} PRIVATE HP_SOURCE_DIR="${PROJECT_SOURCE_DIR}" HP_BINARY_DIR="${PROJECT_BINARY_DIR}")
  add_test(NAME ${name} COMMAND ${name} WORKING_DIRECTORY ${PROJECT_BINARY_DIR})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set_tests_properties(${name} PROPERTIES TIMEOUT ${T_TIMEOUT} LABELS "${T_LABELS}")
endfunction()

# hp_bench(NAME SOURCES ... MODULES ...): a benchmark program (never run by ctest).
function(hp_bench name)
  cmake_parse_arguments(B "" "" "SOURCES;MODULES" ${ARGN})
  hp_collect(mods ${B_MODULES})
  set(objs)
  foreach(m ${mods})
    list(APPEND objs $<TARGET_OBJECTS:hp_${m}>)
  endforeach()
  add_executable(${name} ${B_SOURCES} ${objs})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PRIVATE hp_deps)
endfunction()
