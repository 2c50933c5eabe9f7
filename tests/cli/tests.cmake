# `weft demo --quick` end to end (tests/cli/demo_quick.sh): the CI smoke test of the
# whole pipeline. Two ranks: as MPI processes when this build has MPI and mpirun
# exists, else as thread ranks.
add_test(NAME CliDemoQuick
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/demo_quick.sh $<TARGET_FILE:weft> --ranks 2)
set_tests_properties(CliDemoQuick PROPERTIES TIMEOUT 400
                     ENVIRONMENT "OMP_WAIT_POLICY=PASSIVE")
