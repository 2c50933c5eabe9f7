#!/usr/bin/env python3
"""Writes the /proc and /sys fixture trees that tests/sys/test_hw_*.cpp read:

  tests/fixtures/hw/laptop_i5_10500h/  1 socket, 6 cores / 12 threads (Intel Comet Lake-H)
  tests/fixtures/hw/epyc_7742_2s/      2 x AMD EPYC 7742, 64 cores each, SMT2, NPS4 (8 NUMA nodes)

They follow the layout and wording of the real files on such machines (Linux
numbers SMT siblings n and n + cores; intel_pstate exposes base_frequency,
acpi-cpufreq on EPYC only the P-state range). The KVM guest fixture
(kvm_2vcpu/) is a verbatim copy of a real guest's files, not generated here.

Usage: python3 tools/make_hw_fixtures.py [OUT_DIR]   (default tests/fixtures/hw)
"""
import os
import sys


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def cpu_list(cpus):
    """[0,1,2,5] -> '0-2,5' as the kernel prints it."""
    cpus = sorted(cpus)
    parts, start, prev = [], cpus[0], cpus[0]
    for c in cpus[1:] + [None]:
        if c is not None and c == prev + 1:
            prev = c
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if c is not None:
            start = prev = c
    return ",".join(parts)


def cpuinfo_block(fields):
    lines = []
    for key, value in fields:
        if key == "power management":  # the kernel prints this one without a tab
            lines.append(f"{key}:{' ' + str(value) if value != '' else ''}")
            continue
        tabs = "\t" if len(key) >= 8 else "\t\t"
        lines.append(f"{key}{tabs}: {value}")
    return "\n".join(lines) + "\n\n"


def write_cache(root, cpu, index, level, ctype, size, shared):
    d = f"{root}/sys/devices/system/cpu/cpu{cpu}/cache/index{index}"
    write(f"{d}/level", f"{level}\n")
    write(f"{d}/type", f"{ctype}\n")
    write(f"{d}/size", f"{size}\n")
    write(f"{d}/shared_cpu_list", cpu_list(shared) + "\n")


# ---------------------------------------------------------------------------
LAPTOP_FLAGS = (
    "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush dts acpi "
    "mmx fxsr sse sse2 ss ht tm pbe syscall nx pdpe1gb rdtscp lm constant_tsc art arch_perfmon "
    "pebs bts rep_good nopl xtopology nonstop_tsc cpuid aperfmperf pni pclmulqdq dtes64 monitor "
    "ds_cpl vmx est tm2 ssse3 sdbg fma cx16 xtpr pdcm pcid sse4_1 sse4_2 x2apic movbe popcnt "
    "tsc_deadline_timer aes xsave avx f16c rdrand lahf_lm abm 3dnowprefetch cpuid_fault epb "
    "invpcid_single ssbd ibrs ibpb stibp ibrs_enhanced tpr_shadow vnmi flexpriority ept vpid "
    "ept_ad fsgsbase tsc_adjust bmi1 avx2 smep bmi2 erms invpcid mpx rdseed adx smap clflushopt "
    "intel_pt xsaveopt xsavec xgetbv1 xsaves dtherm ida arat pln pts hwp hwp_notify "
    "hwp_act_window hwp_epp pku ospke md_clear flush_l1d arch_capabilities")
LAPTOP_VMX_FLAGS = (
    "vnmi preemption_timer invvpid ept_x_only ept_ad ept_1gb flexpriority tsc_offset vtpr mtf "
    "vapic ept vpid unrestricted_guest ple pml ept_mode_based_exec")


def laptop(root):
    cores, threads = 6, 12
    text = ""
    for cpu in range(threads):
        core = cpu % cores
        smt = cpu // cores
        text += cpuinfo_block([
            ("processor", cpu), ("vendor_id", "GenuineIntel"), ("cpu family", 6),
            ("model", 165), ("model name", "Intel(R) Core(TM) i5-10500H CPU @ 2.50GHz"),
            ("stepping", 2), ("microcode", "0xf8"), ("cpu MHz", "2500.000"),
            ("cache size", "12288 KB"), ("physical id", 0), ("siblings", threads),
            ("core id", core), ("cpu cores", cores), ("apicid", 2 * core + smt),
            ("initial apicid", 2 * core + smt), ("fpu", "yes"), ("fpu_exception", "yes"),
            ("cpuid level", 22), ("wp", "yes"), ("flags", LAPTOP_FLAGS),
            ("vmx flags", LAPTOP_VMX_FLAGS),
            ("bugs", "spectre_v1 spectre_v2 spec_store_bypass swapgs itlb_multihit srbds "
                     "mmio_stale_data retbleed eibrs_pbrsb gds"),
            ("bogomips", "4999.90"), ("clflush size", 64), ("cache_alignment", 64),
            ("address sizes", "39 bits physical, 48 bits virtual"), ("power management", ""),
        ])
    write(f"{root}/proc/cpuinfo", text)
    for cpu in range(threads):
        core = cpu % cores
        siblings = [core, core + cores]
        write_cache(root, cpu, 0, 1, "Data", "32K", siblings)
        write_cache(root, cpu, 1, 1, "Instruction", "32K", siblings)
        write_cache(root, cpu, 2, 2, "Unified", "256K", siblings)
        write_cache(root, cpu, 3, 3, "Unified", "12288K", range(threads))
        f = f"{root}/sys/devices/system/cpu/cpu{cpu}/cpufreq"
        write(f"{f}/cpuinfo_max_freq", "4500000\n")
        write(f"{f}/cpuinfo_min_freq", "800000\n")
        write(f"{f}/base_frequency", "2500000\n")
        write(f"{f}/scaling_driver", "intel_pstate\n")
    write(f"{root}/sys/devices/system/cpu/online", "0-11\n")
    write(f"{root}/sys/devices/system/node/online", "0\n")
    write(f"{root}/sys/devices/system/node/node0/cpulist", "0-11\n")
    write(f"{root}/proc/meminfo", MEMINFO_TEMPLATE.format(
        total=16206272, free=7718224, available=10731856, buffers=402316, cached=3268556,
        swap_total=2097148, swap_free=2097148, commit_limit=10200284, committed=12986312))


# ---------------------------------------------------------------------------
EPYC_FLAGS = (
    "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr "
    "sse sse2 ht syscall nx mmxext fxsr_opt pdpe1gb rdtscp lm constant_tsc rep_good nopl "
    "nonstop_tsc cpuid extd_apicid aperfmperf rapl pni pclmulqdq monitor ssse3 fma cx16 sse4_1 "
    "sse4_2 movbe popcnt aes xsave avx f16c rdrand lahf_lm cmp_legacy svm extapic cr8_legacy "
    "abm sse4a misalignsse 3dnowprefetch osvw ibs skinit wdt tce topoext perfctr_core "
    "perfctr_nb bpext perfctr_llc mwaitx cpb cat_l3 cdp_l3 hw_pstate ssbd mba ibrs ibpb stibp "
    "vmmcall fsgsbase bmi1 avx2 smep bmi2 cqm rdt_a rdseed adx smap clflushopt clwb sha_ni "
    "xsaveopt xsavec xgetbv1 xsaves cqm_llc cqm_occup_llc cqm_mbm_total cqm_mbm_local clzero "
    "irperf xsaveerptr rdpru wbnoinvd amd_ppin arat npt lbrv svm_lock nrip_save tsc_scale "
    "vmcb_clean flushbyasid decodeassists pausefilter pfthreshold avic v_vmsave_vmload vgif "
    "v_spec_ctrl umip rdpid overflow_recov succor smca sme sev sev_es")


def epyc(root):
    sockets, cores_per_socket, smt = 2, 64, 2
    cores = sockets * cores_per_socket           # 128 physical cores
    threads = cores * smt                         # 256 logical CPUs
    nodes = 8                                     # NPS4: 4 nodes per socket, 16 cores each

    def place(cpu):  # Linux numbering: cpu = thread * 128 + socket * 64 + core
        thread, rest = divmod(cpu, cores)
        socket, core = divmod(rest, cores_per_socket)
        return socket, core, thread

    text = ""
    for cpu in range(threads):
        socket, core, thread = place(cpu)
        apic = socket * 128 + 2 * core + thread
        text += cpuinfo_block([
            ("processor", cpu), ("vendor_id", "AuthenticAMD"), ("cpu family", 23),
            ("model", 49), ("model name", "AMD EPYC 7742 64-Core Processor"), ("stepping", 0),
            ("microcode", "0x830107a"), ("cpu MHz", "2250.000"), ("cache size", "512 KB"),
            ("physical id", socket), ("siblings", cores_per_socket * smt), ("core id", core),
            ("cpu cores", cores_per_socket), ("apicid", apic), ("initial apicid", apic),
            ("fpu", "yes"), ("fpu_exception", "yes"), ("cpuid level", 16), ("wp", "yes"),
            ("flags", EPYC_FLAGS),
            ("bugs", "sysret_ss_attrs spectre_v1 spectre_v2 spec_store_bypass retbleed smt_rsb srso"),
            ("bogomips", "4491.64"), ("TLB size", "3072 4K pages"), ("clflush size", 64),
            ("cache_alignment", 64), ("address sizes", "43 bits physical, 48 bits virtual"),
            ("power management", "ts ttp tm hwpstate cpb eff_freq_ro [13] [14]"),
        ])
    write(f"{root}/proc/cpuinfo", text)
    for cpu in range(threads):
        socket, core, thread = place(cpu)
        first = socket * cores_per_socket + core           # thread-0 CPU of this core
        siblings = [first, first + cores]
        ccx = (first // 4) * 4                               # 4 cores share one 16 MiB L3
        l3 = list(range(ccx, ccx + 4)) + list(range(ccx + cores, ccx + cores + 4))
        write_cache(root, cpu, 0, 1, "Data", "32K", siblings)
        write_cache(root, cpu, 1, 1, "Instruction", "32K", siblings)
        write_cache(root, cpu, 2, 2, "Unified", "512K", siblings)
        write_cache(root, cpu, 3, 3, "Unified", "16384K", l3)
    f = f"{root}/sys/devices/system/cpu/cpu0/cpufreq"
    write(f"{f}/cpuinfo_max_freq", "2250000\n")
    write(f"{f}/cpuinfo_min_freq", "1500000\n")
    write(f"{f}/scaling_driver", "acpi-cpufreq\n")
    write(f"{root}/sys/devices/system/cpu/online", f"0-{threads - 1}\n")
    write(f"{root}/sys/devices/system/node/online", f"0-{nodes - 1}\n")
    per_node = cores // nodes
    for node in range(nodes):
        first = node * per_node
        cpus = list(range(first, first + per_node)) + list(range(first + cores, first + cores + per_node))
        write(f"{root}/sys/devices/system/node/node{node}/cpulist", cpu_list(cpus) + "\n")
    write(f"{root}/proc/meminfo", MEMINFO_TEMPLATE.format(
        total=1056499264, free=990127424, available=1012765440, buffers=1262104,
        cached=19436616, swap_total=8388604, swap_free=8388604, commit_limit=536638236,
        committed=23876548))


MEMINFO_TEMPLATE = """MemTotal:       {total:>10} kB
MemFree:        {free:>10} kB
MemAvailable:   {available:>10} kB
Buffers:        {buffers:>10} kB
Cached:         {cached:>10} kB
SwapCached:              0 kB
Active:            4528312 kB
Inactive:          2915564 kB
Active(anon):      2904412 kB
Inactive(anon):      12044 kB
Active(file):      1623900 kB
Inactive(file):    2903520 kB
Unevictable:         98304 kB
Mlocked:                 0 kB
SwapTotal:      {swap_total:>10} kB
SwapFree:       {swap_free:>10} kB
Zswap:                   0 kB
Zswapped:                0 kB
Dirty:                 412 kB
Writeback:               0 kB
AnonPages:         2897264 kB
Mapped:             871240 kB
Shmem:              117532 kB
KReclaimable:       288912 kB
Slab:               512040 kB
SReclaimable:       288912 kB
SUnreclaim:         223128 kB
KernelStack:         19216 kB
PageTables:          41856 kB
SecPageTables:           0 kB
NFS_Unstable:            0 kB
Bounce:                  0 kB
WritebackTmp:            0 kB
CommitLimit:    {commit_limit:>10} kB
Committed_AS:   {committed:>10} kB
VmallocTotal:   34359738367 kB
VmallocUsed:         68236 kB
VmallocChunk:            0 kB
Percpu:               8064 kB
HardwareCorrupted:       0 kB
AnonHugePages:           0 kB
ShmemHugePages:          0 kB
ShmemPmdMapped:          0 kB
FileHugePages:           0 kB
FilePmdMapped:           0 kB
HugePages_Total:         0
HugePages_Free:          0
HugePages_Rsvd:          0
HugePages_Surp:          0
Hugepagesize:         2048 kB
Hugetlb:                 0 kB
DirectMap4k:        454336 kB
DirectMap2M:      12906496 kB
DirectMap1G:       4194304 kB
"""

if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "hw")
    laptop(os.path.join(out, "laptop_i5_10500h"))
    epyc(os.path.join(out, "epyc_7742_2s"))
    print(f"wrote fixtures under {out}")
