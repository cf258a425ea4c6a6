"""Read a charnn checkpoint from Python with numpy alone, and score a text with it.

A .ckpt is a safetensors file: 8 bytes of little-endian header length, a JSON header, then raw
little-endian float32 tensors. The header's __metadata__ holds the model config, the vocabulary
(code points, or 0..255 for a byte model) and the training record. This script rebuilds the
classic cells (lstm, gru, rnn) in numpy, one character at a time from a zero state, and prints
nats and bits per character over the known characters of a file, which matches
`charnn eval CKPT FILE --streams 1`.

  /usr/bin/python3 scripts/read_checkpoint.py checkpoints/quickstart.ckpt [text-file] [max-chars]
"""
import json, struct, sys

import numpy as np


def load(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop('__metadata__')
    tensors = {}
    for name, e in header.items():
        a, b = e['data_offsets']
        tensors[name] = np.frombuffer(data[a:b], dtype='<f4').reshape(e['shape'])
    return json.loads(meta['config']), json.loads(meta['vocab']), meta.get('tokenizer', 'chars'), tensors


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def step(cell, w, layer, x, state):
    p = f'{cell}.{layer}'
    if cell == 'lstm':
        h, c = state
        i, f, g, o = np.split(x @ w[p + '.w_x'] + h @ w[p + '.w_h'] + w[p + '.bias'], 4)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        return h, (h, c)
    if cell == 'gru':
        (h,) = state
        xr, xz, xn = np.split(x @ w[p + '.w_x'] + w[p + '.b_x'], 3)
        hr, hz, hn = np.split(h @ w[p + '.w_h'] + w[p + '.b_h'], 3)
        r, z = sigmoid(xr + hr), sigmoid(xz + hz)
        h = (1 - z) * np.tanh(xn + r * hn) + z * h
        return h, (h,)
    if cell == 'rnn':
        (h,) = state
        h = np.tanh(x @ w[p + '.w_x'] + h @ w[p + '.w_h'] + w[p + '.bias'])
        return h, (h,)
    raise SystemExit(f'this script steps lstm, gru and rnn; a {cell} checkpoint has the weights listed above')


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    config, vocab, tokenizer, w = load(sys.argv[1])
    print('config', config, '| tokenizer', tokenizer, '| vocabulary', len(vocab))
    for name, t in w.items():
        if not name.startswith(('optim.', 'train.')):
            print(f'  {name:24s} {t.shape}')
    if len(sys.argv) < 3:
        return
    raw = open(sys.argv[2], 'rb').read()
    if tokenizer == 'bytes':
        symbols = list(raw)
    else:
        symbols = [ord(ch) for ch in raw.decode('utf-8').removeprefix('\ufeff')]
    index = {s: i for i, s in enumerate(vocab)}
    ids = [index[s] for s in symbols if s in index][: int(sys.argv[3]) if len(sys.argv) > 3 else None]
    cell, H, L = config['cell'], config['hidden'], config['layers']
    w = {k: v.astype(np.float64) for k, v in w.items()}
    states = [(np.zeros(H), np.zeros(H)) if cell == 'lstm' else (np.zeros(H),) for _ in range(L)]
    nats = 0.0
    for t in range(len(ids) - 1):
        x = w['embed.weight'][ids[t]]
        for layer in range(L):
            x, states[layer] = step(cell, w, layer, x, states[layer])
        logits = x @ w['head.weight'] + w['head.bias']
        m = logits.max()
        nats += m + np.log(np.exp(logits - m).sum()) - logits[ids[t + 1]]
    n = len(ids) - 1
    print(json.dumps({'chars': n, 'nats_per_char': nats / n, 'bits_per_char': nats / n / np.log(2)}))


if __name__ == '__main__':
    main()
