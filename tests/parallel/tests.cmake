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

# Topology and hierarchical all-reduce (issue 12) under mpirun, nodes faked on one
# machine with WEFT_RANKS_PER_NODE (parallel/topology.hpp): collectives vs closed
# forms and vs the flat all-reduce (hier_mpi_main.cpp), the override mismatch, and
# `weft train` with hierarchical DP against the single-rank reference (losses and
# grad norms rel 1e-5; parameters as the MPI dp tests, 5e-5, since hier sums in
# another order than the reference). Own run folder: hier_runs.
if(WEFT_HAVE_MPI)
  add_executable(weft_hier_mpi_test ${CMAKE_CURRENT_LIST_DIR}/hier_mpi_main.cpp)
  target_link_libraries(weft_hier_mpi_test PRIVATE weft_lib)
  weft_set_warnings(weft_hier_mpi_test)
  set(hier_mpirun ${MPIEXEC_EXECUTABLE} --oversubscribe --allow-run-as-root)

  # 2 nodes × 2 ranks, 2 nodes × 3 (odd local size: pieces plus a tail), and the real
  # topology (no override: MPI_Comm_split_type finds one node).
  add_test(NAME hier_mpi_np4_2x2
           COMMAND ${hier_mpirun} -np 4 -x WEFT_RANKS_PER_NODE=2 $<TARGET_FILE:weft_hier_mpi_test> checks 2)
  add_test(NAME hier_mpi_np6_2x3
           COMMAND ${hier_mpirun} -np 6 -x WEFT_RANKS_PER_NODE=3 $<TARGET_FILE:weft_hier_mpi_test> checks 2)
  add_test(NAME topology_mpi_np2_real
           COMMAND ${hier_mpirun} -np 2 $<TARGET_FILE:weft_hier_mpi_test> checks 1)
  set_tests_properties(hier_mpi_np4_2x2 hier_mpi_np6_2x3 topology_mpi_np2_real PROPERTIES
    ENVIRONMENT "OMP_NUM_THREADS=1" TIMEOUT 90 PASS_REGULAR_EXPRESSION "hier checks passed on")
  # Ranks that disagree on the override stop at once, naming it.
  add_test(NAME topology_mpi_override_mismatch
           COMMAND ${weft_expect_failure} "WEFT_RANKS_PER_NODE differs between ranks" 30
                   ${hier_mpirun} -np 1 env WEFT_RANKS_PER_NODE=1 $<TARGET_FILE:weft_hier_mpi_test> topology
                   : -np 1 $<TARGET_FILE:weft_hier_mpi_test> topology)
  set_tests_properties(topology_mpi_override_mismatch PROPERTIES ENVIRONMENT "OMP_NUM_THREADS=1" TIMEOUT 60)

  # Training: d4, global batch 4 × T 16, 20 steps; references one rank with the batch
  # fed as 4 (dp 4) or 2 (dp 2) micro-batches, as tests/train/tests.cmake does.
  set(hier_dir ${CMAKE_CURRENT_BINARY_DIR}/hier_runs)
  set(hier_common train --model d4 --vocab 512 --max-seq 32 --data ${hier_dir}/syn_train_000.bin
      --seq 16 --steps 20 --lr 1e-3 --warmup 2 --weight-decay 0.1 --threads 1
      --peak-gflops 1 --overwrite -q --bucket-mb 0.5)
  set(hier_check bash ${CMAKE_CURRENT_LIST_DIR}/../train/dp_check.sh $<TARGET_FILE:weft_dp_compare>)
  add_test(NAME hier_train_setup
           COMMAND bash -c "mkdir -p '${hier_dir}' && '$<TARGET_FILE:weft_dp_compare>' --make-shard '${hier_dir}/syn_train_000.bin' && \
'$<TARGET_FILE:weft>' $<JOIN:${hier_common}, > --batch 1 --grad-accum 4 --out '${hier_dir}/ref_n4' && \
'$<TARGET_FILE:weft>' $<JOIN:${hier_common}, > --batch 2 --grad-accum 2 --out '${hier_dir}/ref_n2'")
  set_tests_properties(hier_train_setup PROPERTIES FIXTURES_SETUP hier_ref ENVIRONMENT "OMP_NUM_THREADS=1" TIMEOUT 90)

  set(hier_train_tests)
  macro(hier_equiv name ref ptol)
    add_test(NAME ${name} COMMAND ${hier_check} ${hier_dir}/${ref} ${hier_dir}/${name} ${ptol} ${ARGN})
    list(APPEND hier_train_tests ${name})
  endmacro()
  # dp 4 over 2 faked nodes: auto picks hierarchical (the log line is required too).
  foreach(z 0 1)
    hier_equiv(hier_train_mpi_np4_zero${z} ref_n4 5e-5
               ${hier_mpirun} -np 4 -x WEFT_RANKS_PER_NODE=2 $<TARGET_FILE:weft> ${hier_common}
               --batch 4 --zero ${z} --allreduce auto)
  endforeach()
  hier_equiv(hier_train_threads_n4_zero0 ref_n4 5e-5 env WEFT_RANKS_PER_NODE=2 $<TARGET_FILE:weft>
             ${hier_common} --batch 4 --ranks 4 --ranks-as threads --allreduce auto)
  set_tests_properties(hier_train_mpi_np4_zero0 hier_train_mpi_np4_zero1 hier_train_threads_n4_zero0
    PROPERTIES PASS_REGULAR_EXPRESSION "dp all-reduce: hierarchical, 2 nodes x 2.*dp equivalence OK")
  # tp 2 inside each of 2 faked nodes × dp 2 across them (one dp rank per node:
  # hier forced; tp regroups sums, hence tp_tests.cmake's 5e-3 on parameters).
  hier_equiv(hier_train_mpi_tp2_dp2 ref_n2 5e-3
             ${hier_mpirun} -np 4 -x WEFT_RANKS_PER_NODE=2 $<TARGET_FILE:weft> ${hier_common}
             --batch 4 --tp 2 --dp 2 --allreduce hier)
  set_tests_properties(hier_train_mpi_tp2_dp2 PROPERTIES
    PASS_REGULAR_EXPRESSION "dp 1 tp 1 pp 0.*dp all-reduce: hierarchical, 2 nodes x 1.*dp equivalence OK"
    FAIL_REGULAR_EXPRESSION "spans nodes")
  # One rank per faked node with tp 2: the tp group crosses nodes → a warning, not an error.
  add_test(NAME hier_train_tp_across_nodes_warns
           COMMAND env WEFT_RANKS_PER_NODE=1 $<TARGET_FILE:weft> train --model d4 --vocab 512
                   --max-seq 32 --data ${hier_dir}/syn_train_000.bin --seq 16 --steps 1 --batch 4
                   --threads 1 --peak-gflops 1 --overwrite -q --tp 2 --ranks-as threads
                   --out ${hier_dir}/tp_warn)
  set_tests_properties(hier_train_tp_across_nodes_warns PROPERTIES
    PASS_REGULAR_EXPRESSION "tensor-parallel group of ranks 0-1 spans nodes")
  list(APPEND hier_train_tests hier_train_tp_across_nodes_warns)
  set_tests_properties(${hier_train_tests} PROPERTIES FIXTURES_REQUIRED hier_ref
                       ENVIRONMENT "OMP_NUM_THREADS=1" TIMEOUT 120)
endif()

# wte's early gradient reduction (parallel/dp_wte_split.hpp) under mpirun: bitwise the
# plain step and the thread-rank step at ZeRO 0-3 (dp_wte_mpi_main.cpp). ~2 s each.
if(WEFT_HAVE_MPI)
  add_executable(weft_dp_wte_mpi_test ${CMAKE_CURRENT_LIST_DIR}/dp_wte_mpi_main.cpp)
  target_link_libraries(weft_dp_wte_mpi_test PRIVATE weft_lib)
  weft_set_warnings(weft_dp_wte_mpi_test)
  foreach(np 2 3)
    add_test(NAME dp_wte_mpi_np${np}
             COMMAND ${MPIEXEC_EXECUTABLE} --oversubscribe --allow-run-as-root -np ${np}
                     $<TARGET_FILE:weft_dp_wte_mpi_test>)
    set_tests_properties(dp_wte_mpi_np${np} PROPERTIES ENVIRONMENT "OMP_NUM_THREADS=1" TIMEOUT 90
                         PASS_REGULAR_EXPRESSION "dp wte checks passed on ${np} MPI ranks")
  endforeach()
endif()
