# tests/sys: a fake libnvidia-ml (fake_nvml.c) so the NVML path of `weft hw` is
# tested without a driver; its path reaches the tests as WEFT_FAKE_NVML.
add_library(weft_fake_nvml SHARED ${CMAKE_CURRENT_LIST_DIR}/fake_nvml.c)
set_target_properties(weft_fake_nvml PROPERTIES C_VISIBILITY_PRESET default)
target_compile_definitions(weft_tests PRIVATE WEFT_FAKE_NVML="$<TARGET_FILE:weft_fake_nvml>")
add_dependencies(weft_tests weft_fake_nvml)
