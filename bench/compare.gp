# Plots of a bench/compare.sh run (Debian's gnuplot-nox): Burrow beside RabbitMQ per scenario.
#
#   gnuplot -e "dir='/tmp/burrow-compare-X'; img='docs/img'; note='2026-11-23, 3 rounds x 10 s'" \
#       bench/compare.gp
#
# Reads dir/throughput.dat, dir/startup.dat ("label" burrow rabbitmq) and dir/latency.dat
# ("label" burrow_p50 burrow_p99 rabbitmq_p50 rabbitmq_p99, microseconds), written by
# bench/compare_report.py. Writes img/compare-throughput.png, compare-startup.png and
# compare-latency.png. Log scales: the brokers differ by one to three orders of magnitude.
if (!exists("dir")) dir = "."
if (!exists("img")) img = "docs/img"
if (!exists("note")) note = ""

set terminal pngcairo size 1100,600 noenhanced font "sans,10"
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key outside bottom center horizontal
set xtics rotate by -25 scale 0
set logscale y
set format y "%.0s%c"

set output img."/compare-throughput.png"
set title "Throughput per scenario (median of rounds; msg/s, log scale)\n".note
set ylabel "msg/s"
plot dir."/throughput.dat" using 2:xtic(1) title "Burrow" linecolor rgb "#d95f02", \
     ''                   using 3         title "RabbitMQ 3.10" linecolor rgb "#7570b3"

set output img."/compare-startup.png"
set terminal pngcairo size 600,500 noenhanced font "sans,10"
set title "Startup: exec to first queue.declare-ok (ms, log scale)\n".note
set ylabel "ms"
set format y "%g"
set yrange [1:*]
set xtics norotate
plot dir."/startup.dat" using 2:xtic(1) title "Burrow" linecolor rgb "#d95f02", \
     ''                using 3         title "RabbitMQ 3.10" linecolor rgb "#7570b3"

set output img."/compare-latency.png"
set terminal pngcairo size 1200,600 noenhanced font "sans,10"
set title "Latency p50 / p99 per scenario (median of rounds; µs, log scale)\n".note
set ylabel "µs"
set format y "%.0s%c"
set yrange [*:*]
set xtics rotate by -25
plot dir."/latency.dat" using 2:xtic(1) title "Burrow p50" linecolor rgb "#fdae6b", \
     ''                using 3         title "Burrow p99" linecolor rgb "#d95f02", \
     ''                using 4         title "RabbitMQ p50" linecolor rgb "#bcbddc", \
     ''                using 5         title "RabbitMQ p99" linecolor rgb "#54278f"
