# weft serve tests that run outside weft_tests: the load test (bench_serve, small limits)
# and the real-client tests (node: official openai client; headless chromium + playwright-core).
# The client tests are skipped (exit 77, SKIP in ctest) when node, the npm modules
# (npm ci --prefix tests/serve/js; scripts/setup.sh does it when node is present) or
# /usr/bin/chromium are absent.
if(WEFT_BUILD_BENCH)  # bench/ is added after tests/: refer to the target by generator expression
  add_test(NAME ServeLoad COMMAND $<TARGET_FILE:bench_serve> --concurrency 64 --max-tokens 16)
  set_tests_properties(ServeLoad PROPERTIES TIMEOUT 120 ENVIRONMENT "OMP_NUM_THREADS=1;OMP_WAIT_POLICY=PASSIVE")
endif()

find_program(WEFT_NODE node)
foreach(client openai_client browser)
  if(WEFT_NODE)
    add_test(NAME ServeClient_${client}
             COMMAND ${WEFT_NODE} ${CMAKE_CURRENT_LIST_DIR}/js/${client}.test.mjs $<TARGET_FILE:weft>)
  else()
    add_test(NAME ServeClient_${client} COMMAND sh -c "echo 'SKIP: node not found (apt-get install nodejs npm)'; exit 77")
  endif()
  set_tests_properties(ServeClient_${client} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 120
                       ENVIRONMENT "OMP_NUM_THREADS=1;OMP_WAIT_POLICY=PASSIVE")
endforeach()
