# Communicator tests that need mpirun (included by tests/CMakeLists.txt). One small
# test program, mpi_comm_main.cpp, run at world sizes 1-4 and in fault modes.
# Oversubscribed on purpose: CI machines have 2 cores. Together well under 60 s.
if(WEFT_HAVE_MPI)
  add_executable(weft_mpi_comm_test ${CMAKE_CURRENT_LIST_DIR}/mpi_comm_main.cpp)
  target_link_libraries(weft_mpi_comm_test PRIVATE weft_lib)
  weft_set_warnings(weft_mpi_comm_test)
  set(weft_mpirun ${MPIEXEC_EXECUTABLE} --oversubscribe --allow-run-as-root)
  set(weft_expect_failure bash ${CMAKE_CURRENT_LIST_DIR}/expect_failure.sh)

  foreach(np 1 2 3 4)
    add_test(NAME comm_mpi_np${np}
             COMMAND ${weft_mpirun} -np ${np} $<TARGET_FILE:weft_mpi_comm_test> checks 262144)
    set_tests_properties(comm_mpi_np${np} PROPERTIES
      ENVIRONMENT "OMP_NUM_THREADS=1" TIMEOUT 60 PASS_REGULAR_EXPRESSION "comm checks passed on ${np} MPI ranks")
  endforeach()
  # Large count (1<<20) once, at np 2.
  add_test(NAME comm_mpi_np2_large
           COMMAND ${weft_mpirun} -np 2 $<TARGET_FILE:weft_mpi_comm_test> checks 1048576)
  set_tests_properties(comm_mpi_np2_large PROPERTIES ENVIRONMENT "OMP_NUM_THREADS=1" TIMEOUT 60)

  # A stalled rank: the others time out after 1 s naming it, and the job ends non-zero.
  add_test(NAME comm_mpi_stall
           COMMAND ${weft_expect_failure} "all_reduce #1 \\(step 2\\) timed out after 1 s: rank 2 has not arrived" 30
                   ${weft_mpirun} -np 3 $<TARGET_FILE:weft_mpi_comm_test> stall)
  # A killed rank: mpirun notices and ends the job, naming rank 2.
  add_test(NAME comm_mpi_kill
           COMMAND ${weft_expect_failure} "process rank 2 .*signal 9" 30
                   ${weft_mpirun} -np 3 $<TARGET_FILE:weft_mpi_comm_test> kill)
  # The same when the launcher keeps survivors alive (as some srun setups do): the
  # survivors' timeout names the dead rank and MPI_Abort ends the job. (In this
  # mode Open MPI 4.1's mpirun exits 0 even after MPI_Abort, so only the message
  # and the absence of a hang are checked.)
  add_test(NAME comm_mpi_kill_survivors
           COMMAND ${weft_expect_failure} "rank 2 has not arrived; rank 2 did not answer" 30
                   ${weft_mpirun} --enable-recovery -np 3 $<TARGET_FILE:weft_mpi_comm_test> kill)
  set_tests_properties(comm_mpi_stall comm_mpi_kill PROPERTIES
    ENVIRONMENT "OMP_NUM_THREADS=1" TIMEOUT 60)
  set_tests_properties(comm_mpi_kill_survivors PROPERTIES
    ENVIRONMENT "OMP_NUM_THREADS=1;EXPECT_ANY_EXIT=1" TIMEOUT 60)
endif()
