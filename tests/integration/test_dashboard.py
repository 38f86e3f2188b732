"""The dashboard burrowd serves at / (server/management/www/), rendered by headless Chromium:
queues with their counts and rates, dead-letter queues marked, totals, connections, the login
form, and a screenshot that must show the page (not a blank or error page)."""

import base64
import html.parser
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import BrokerTestCase, get_message  # noqa: E402

CHROMIUM_TIMEOUT = 25.0
# Virtual time the page gets: whoami, the first refresh and a second one 5 s later. Virtual
# time waits while a fetch is pending, so this does not depend on how fast the machine is.
VIRTUAL_TIME_MS = 8000


def find_chromium():
    for name in (os.environ.get('CHROMIUM'), 'chromium', 'chromium-browser', 'google-chrome'):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def http_get(url, auth=None):
    headers = {}
    if auth:
        headers['Authorization'] = 'Basic ' + base64.b64encode(auth.encode()).decode()
    req = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read(), resp.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers


# ---- reading the rendered DOM ---------------------------------------------------------------

class DomReader(html.parser.HTMLParser):
    """Collects what the assertions need from Chromium's --dump-dom output: the text of every
    element with an id, the queue and connection rows (cells by class), hidden sections."""

    VOID = {'area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta',
            'source', 'track', 'wbr'}

    def __init__(self):
        super().__init__()
        self.stack = []          # [tag, attrs, text parts]
        self.by_id = {}          # id -> (attrs, text)
        self.rows = {}           # tbody id -> [{'attrs':…, 'cells':{class: text}, 'text':…}]
        self._row = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict((k, v or '') for k, v in attrs)
        if tag in self.VOID:
            if 'id' in attrs:
                self.by_id[attrs['id']] = (attrs, '')
            return
        self.stack.append([tag, attrs, []])
        if tag == 'tr':
            tbody = next((e for e in reversed(self.stack) if e[0] == 'tbody'), None)
            if tbody is not None:
                self._row = {'attrs': attrs, 'cells': {}, 'parts': [],
                             'tbody': tbody[1].get('id', '')}
        elif tag == 'td' and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        while self.stack:
            top_tag, attrs, parts = self.stack.pop()
            text = ''.join(parts)
            if self.stack:
                self.stack[-1][2].append(text)
            if 'id' in attrs:
                self.by_id[attrs['id']] = (attrs, text.strip())
            if top_tag == 'td' and self._row is not None and self._cell is not None:
                for cls in attrs.get('class', '').split() or ['']:
                    self._row['cells'][cls] = text.strip()
                self._cell = None
            if top_tag == 'tr' and self._row is not None:
                self._row['text'] = text.strip()
                self.rows.setdefault(self._row['tbody'], []).append(self._row)
                self._row = None
            if top_tag == tag:
                break

    def handle_data(self, data):
        if self.stack:
            self.stack[-1][2].append(data)

    def text(self, element_id):
        return self.by_id[element_id][1] if element_id in self.by_id else None

    def hidden(self, element_id):
        return 'hidden' in self.by_id[element_id][0]

    def queue_rows(self):
        return {r['attrs'].get('data-name'): r for r in self.rows.get('queue-rows', [])
                if 'data-name' in r['attrs']}


def number(text):
    return float(text.replace(',', ''))


# ---- reading the screenshot -----------------------------------------------------------------

def png_pixels(data):
    """(width, height, rows of RGB tuples) of an 8-bit RGB or RGBA PNG, without PIL."""
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        raise AssertionError('not a PNG: %r' % data[:16])
    pos, idat, header = 8, b'', None
    while pos < len(data):
        length, kind = struct.unpack('>I4s', data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        crc = struct.unpack('>I', data[pos + 8 + length:pos + 12 + length])[0]
        if zlib.crc32(kind + chunk) != crc:
            raise AssertionError('bad CRC in PNG chunk %r' % kind)
        if kind == b'IHDR':
            header = struct.unpack('>IIBBBBB', chunk)
        elif kind == b'IDAT':
            idat += chunk
        elif kind == b'IEND':
            break
        pos += 12 + length
    width, height, depth, color, _, _, interlace = header
    if depth != 8 or color not in (2, 6) or interlace != 0:
        raise AssertionError('unexpected PNG format %r' % (header,))
    bpp = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        rows.append([tuple(line[x:x + 3]) for x in range(0, stride, bpp)])
        prev = line
    return width, height, rows


def near(pixel, rgb, tolerance=6):
    return all(abs(p - c) <= tolerance for p, c in zip(pixel, rgb))


# ---- the tests --------------------------------------------------------------------------------

class DashboardTest(BrokerTestCase):

    @classmethod
    def setUpClass(cls):
        if os.environ.get('AMQP_URL_UNDER_TEST'):
            raise unittest.SkipTest("Burrow's own page: runs against burrowd only")
        super().setUpClass()

    def setUp(self):
        super().setUp()
        self.assertIsNotNone(self.broker.http_url, 'burrowd printed no http:// URL')
        self.base = self.broker.http_url.rstrip('/')
        self.chromium = find_chromium()
        self.assertIsNotNone(self.chromium, 'chromium is not installed '
                             '(scripts/install-deps.sh installs it)')
        self.profile = tempfile.mkdtemp(prefix='burrow-dash-chromium-')
        self.addCleanup(shutil.rmtree, self.profile, True)

    def run_chromium(self, url, *args):
        cmd = [self.chromium, '--headless', '--no-sandbox', '--disable-gpu',
               '--disable-dev-shm-usage', '--no-first-run', '--disable-extensions',
               '--disable-background-networking', '--disable-component-update',
               '--disable-sync', '--hide-scrollbars', '--user-data-dir=' + self.profile,
               '--virtual-time-budget=%d' % VIRTUAL_TIME_MS] + list(args) + [url]
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=CHROMIUM_TIMEOUT, check=False)
        self.assertEqual(proc.returncode, 0, 'chromium failed: %s'
                         % proc.stderr.decode('utf-8', 'replace')[-3000:])
        return proc

    def dump_dom(self, fragment):
        proc = self.run_chromium(self.base + '/' + fragment, '--dump-dom')
        text = proc.stdout.decode('utf-8', 'replace')
        self.assertIn('<html', text, 'chromium dumped no DOM')
        reader = DomReader()
        reader.feed(text)
        reader.close()
        return reader, text

    # -- static files -----------------------------------------------------------------------

    def test_static_files_need_no_login_but_the_api_does(self):
        for path, ctype, marker in (('/', 'text/html', b'dashboard.js'),
                                    ('/index.html', 'text/html', b'dashboard.js'),
                                    ('/dashboard.js', 'text/javascript', b'deadLetterTargets'),
                                    ('/dashboard.css', 'text/css', b'.dlq')):
            status, body, headers = http_get(self.base + path)
            self.assertEqual(status, 200, path)
            self.assertTrue(headers['Content-Type'].startswith(ctype), headers['Content-Type'])
            self.assertIn(marker, body, path)
        # The page in the binary is the file in the repository, byte for byte.
        www = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'server',
                           'management', 'www')
        with open(os.path.join(www, 'dashboard.js'), 'rb') as f:
            self.assertEqual(http_get(self.base + '/dashboard.js')[1], f.read())
        for path in ('/favicon.ico', '/dashboard.jsx', '/www/index.html', '/api/index.html'):
            status, _, _ = http_get(self.base + path)
            self.assertIn(status, (401, 404), path)
        self.assertEqual(http_get(self.base + '/favicon.ico')[0], 404)
        self.assertEqual(http_get(self.base + '/api/overview')[0], 401)
        self.assertEqual(http_get(self.base + '/api/overview', 'guest:guest')[0], 200)

    # -- the rendered page --------------------------------------------------------------------

    def make_traffic(self, rates=True):
        """work: 20 published, 5 fetched, 3 acked (15 ready, 2 unacked, held open);
        orders: dead-letters to exchange <dlx> (fanout) bound to orders.dead: 4 published,
        3 rejected; jobs: dead-letters through the default exchange to parked: 2 rejected."""
        conn = self.connect()
        ch = conn.channel()
        dlx = self.exchange_name()
        ch.exchange_declare(dlx, 'fanout')
        names = {'dlx': dlx}
        names['work'] = self.declare(ch)
        names['dead'] = self.declare(ch)
        ch.queue_bind(names['dead'], dlx)
        names['orders'] = self.declare(ch, arguments={'x-dead-letter-exchange': dlx})
        names['parked'] = self.declare(ch)
        names['jobs'] = self.declare(ch, arguments={
            'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': names['parked']})
        # A first sample of every queue's counters: the next one, >= 5 s later, has rates.
        self.assertEqual(http_get(self.base + '/api/queues', 'guest:guest')[0], 200)
        start = time.monotonic()

        for i in range(20):
            ch.basic_publish('', names['work'], b'w%d' % i)
        for i in range(4):
            ch.basic_publish('', names['orders'], b'o%d' % i)
        for i in range(2):
            ch.basic_publish('', names['jobs'], b'j%d' % i)
        held = conn.channel()  # keeps 2 deliveries unacked while the page is rendered
        for i in range(5):
            method, _, _ = get_message(held, names['work'])
            self.assertIsNotNone(method)
            if i < 3:
                held.basic_ack(method.delivery_tag)
        for queue, count in ((names['orders'], 3), (names['jobs'], 2)):
            for _ in range(count):
                method, _, _ = get_message(ch, queue)
                self.assertIsNotNone(method)
                ch.basic_nack(method.delivery_tag, requeue=False)
        # Wait until the dead letters have arrived, then until the rate window has passed.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if (ch.queue_declare(names['dead'], passive=True).method.message_count == 3 and
                    ch.queue_declare(names['parked'], passive=True).method.message_count == 2):
                break
            time.sleep(0.05)
        if rates:
            time.sleep(max(0.0, 5.2 - (time.monotonic() - start)))
        return names

    def test_dashboard_shows_queues_rates_and_dead_letter_queues(self):
        names = self.make_traffic()
        dom, text = self.dump_dom('#/login/guest/guest')

        self.assertTrue(dom.hidden('login'), 'the login form is still shown')
        self.assertFalse(dom.hidden('dashboard'), 'the dashboard is hidden:\n' + text[-3000:])
        self.assertEqual(dom.by_id['error-banner'][1], '', dom.text('error-banner'))
        rows = dom.queue_rows()
        expected = {  # ready, unacked, consumers, is DLQ
            'work': (15, 2, 0, False),
            'dead': (3, 0, 0, True),
            'orders': (1, 0, 0, False),
            'parked': (2, 0, 0, True),
            'jobs': (0, 0, 0, False),
        }
        for role, (ready, unacked, consumers, dlq) in expected.items():
            name = names[role]
            self.assertIn(name, rows, 'queue %s (%s) not in the table; rows: %r'
                          % (role, name, sorted(rows)))
            row = rows[name]
            cells = row['cells']
            self.assertEqual(cells['name'], name)
            self.assertEqual(cells['vhost'], '/')
            self.assertEqual(number(cells['ready']), ready, role)
            self.assertEqual(number(cells['unacked']), unacked, role)
            self.assertEqual(number(cells['total']), ready + unacked, role)
            self.assertEqual(number(cells['consumers']), consumers, role)
            classes = row['attrs'].get('class', '').split()
            self.assertEqual(row['attrs'].get('data-dlq'), 'true' if dlq else 'false', role)
            self.assertEqual('dlq' in classes, dlq, role)
            badges = cells['features'].split()
            self.assertEqual('DLQ' in badges, dlq, (role, badges))
        self.assertIn('dlq-nonempty', rows[names['dead']]['attrs']['class'].split())
        self.assertIn('DLX→' + names['dlx'], rows[names['orders']]['cells']['features'])
        self.assertIn('DLX→(default)', rows[names['jobs']]['cells']['features'])

        # Live rates: 20 publishes, 5 gets and 3 acks on work within the ~5 s window.
        work = rows[names['work']]['cells']
        self.assertGreater(number(work['publish-rate']), 0, work)
        self.assertGreater(number(work['deliver-rate']), 0, work)
        self.assertGreater(number(work['ack-rate']), 0, work)
        self.assertGreater(number(rows[names['orders']]['cells']['publish-rate']), 0)

        # Node and totals (other tests of this class may add queues, never remove these).
        self.assertIn('3.10.8', dom.text('node-version'))
        self.assertIn('Burrow', dom.text('node-version'))
        self.assertRegex(dom.text('node-uptime'), r'^\d+[dhms]')
        self.assertRegex(dom.text('node-memory'), r'\d+(\.\d)? (KiB|MiB|GiB)')
        self.assertGreaterEqual(number(dom.text('total-queues')), 5)
        self.assertGreaterEqual(number(dom.text('total-ready')), 21)
        self.assertGreaterEqual(number(dom.text('total-unacked')), 2)
        self.assertGreaterEqual(number(dom.text('total-connections')), 1)
        self.assertGreaterEqual(number(dom.text('total-channels')), 2)
        self.assertEqual(number(dom.text('total-consumers')), 0)

        # Our pika connection in the connections table.
        conns = dom.rows.get('connection-rows', [])
        self.assertTrue(any('guest' in r['text'] and 'pika' in r['text'].lower() for r in conns),
                        [r['text'] for r in conns])
        # The password given in the URL does not stay in the page.
        self.assertNotIn('/login/guest/guest', text)

    def test_screenshot_shows_the_dashboard(self):
        self.make_traffic(rates=False)
        shot = os.path.join(self.profile, 'dashboard.png')
        self.run_chromium(self.base + '/#/login/guest/guest', '--screenshot=' + shot,
                          '--window-size=1280,900')
        with open(shot, 'rb') as f:
            data = f.read()
        self.assertGreater(len(data), 8000, 'screenshot too small to show anything')
        width, height, pixels = png_pixels(data)
        self.assertEqual((width, height), (1280, 900))
        counts = {}
        for row in pixels:
            for p in row:
                counts[p] = counts.get(p, 0) + 1
        background, most = max(counts.items(), key=lambda kv: kv[1])
        self.assertGreater(len(counts), 20, 'screenshot has almost no colours')
        self.assertLess(most, 0.95 * width * height, 'screenshot is nearly uniform')
        # The header bar (#2f6f4f) and a non-empty DLQ's row (#fde2e1, a colour nothing else
        # on the page uses) are painted: the page logged in and rendered the queue table.
        self.assertTrue(any(near(p, (0x2F, 0x6F, 0x4F)) for p in counts), 'no header colour')
        dlq_row = sum(n for p, n in counts.items() if near(p, (0xFD, 0xE2, 0xE1), 2))
        self.assertGreater(dlq_row, 5000, 'no highlighted dead-letter queue row')

    def test_login_form_without_credentials_and_bad_password(self):
        dom, text = self.dump_dom('')
        self.assertFalse(dom.hidden('login'), text[-2000:])
        self.assertTrue(dom.hidden('dashboard'))
        self.assertEqual(dom.queue_rows(), {})
        dom, text = self.dump_dom('#/login/guest/wrong')
        self.assertFalse(dom.hidden('login'), text[-2000:])
        self.assertTrue(dom.hidden('dashboard'))
        self.assertEqual(dom.text('login-error'), 'Login failed')


if __name__ == '__main__':
    unittest.main()
