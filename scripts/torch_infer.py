"""PyTorch peer for batch-1 sampling speed: the charnn benchmark configs with random weights.

Architectures as in ../shared/peers/torch_charlm.py (nn.LSTM; minGRU pre-norm residual blocks with a GELU MLP,
a bias-free stem when embed != hidden, a final RMSNorm), stepped one character at a time with the state carried,
the way a sampler runs them: embedding -> model step -> softmax(logits / T) -> multinomial -> feed back.
Prints one JSON line prefixed with RESULT: the median chars/s over --repeats runs of --chars characters.

  /usr/bin/python3 scripts/torch_infer.py --cell lstm   --layers 2 --hidden 256 --embed 64
  /usr/bin/python3 scripts/torch_infer.py --cell mingru --layers 3 --hidden 216 --embed 64 --mlp 2
"""
import argparse, json, statistics, time

import torch
import torch.nn as nn
import torch.nn.functional as F


def g(x):
    return torch.where(x >= 0, x + 0.5, torch.sigmoid(x))


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class MinGRUBlock(nn.Module):
    def __init__(self, dim, mlp_mult):
        super().__init__()
        self.n1 = RMSNorm(dim)
        self.to_zh = nn.Linear(dim, 2 * dim)
        self.n2 = RMSNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp_mult * dim), nn.GELU(approximate='tanh'), nn.Linear(mlp_mult * dim, dim))

    def step(self, x, h):
        k, hh = self.to_zh(self.n1(x)).chunk(2, dim=-1)
        z = torch.sigmoid(k)
        h = (1 - z) * h + z * g(hh)
        x = x + h
        return x + self.mlp(self.n2(x)), h


class StepLM(nn.Module):
    def __init__(self, vocab, cell, layers, hidden, embed, mlp):
        super().__init__()
        self.cell, self.layers, self.hidden = cell, layers, hidden
        self.emb = nn.Embedding(vocab, embed)
        if cell == 'lstm':
            self.rnn = nn.LSTM(embed, hidden, num_layers=layers, batch_first=True)
        else:
            self.proj = nn.Linear(embed, hidden, bias=False) if embed != hidden else nn.Identity()
            self.blocks = nn.ModuleList([MinGRUBlock(hidden, mlp) for _ in range(layers)])
            self.norm_f = RMSNorm(hidden)
        self.head = nn.Linear(hidden, vocab)

    def zero_state(self):
        z = torch.zeros(self.layers, 1, self.hidden)
        return (z, z.clone()) if self.cell == 'lstm' else [torch.zeros(1, self.hidden) for _ in range(self.layers)]

    def step(self, idx, state):
        x = self.emb(idx)  # (1, embed)
        if self.cell == 'lstm':
            out, state = self.rnn(x.unsqueeze(1), state)
            return self.head(out[:, 0]), state
        x = self.proj(x)
        new = []
        for blk, h in zip(self.blocks, state):
            x, h = blk.step(x, h)
            new.append(h)
        return self.head(self.norm_f(x)), new


def run(model, chars, temperature, seed):
    torch.manual_seed(seed)
    idx = torch.zeros(1, dtype=torch.long)
    state = model.zero_state()
    t = time.perf_counter()
    with torch.inference_mode():
        for _ in range(chars):
            logits, state = model.step(idx, state)
            probs = F.softmax(logits / temperature, dim=-1)
            idx = torch.multinomial(probs, 1)[:, 0]
    return chars / (time.perf_counter() - t)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--cell', choices=['lstm', 'mingru'], default='lstm')
    ap.add_argument('--layers', type=int, default=2)
    ap.add_argument('--hidden', type=int, default=256)
    ap.add_argument('--embed', type=int, default=64)
    ap.add_argument('--mlp', type=int, default=2)
    ap.add_argument('--vocab', type=int, default=65)
    ap.add_argument('--chars', type=int, default=2000)
    ap.add_argument('--repeats', type=int, default=5)
    ap.add_argument('--threads', type=int, default=0, help='torch threads (0: torch default)')
    ap.add_argument('--temperature', type=float, default=1.0)
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = StepLM(a.vocab, a.cell, a.layers, a.hidden, a.embed, a.mlp).eval()
    run(model, min(200, a.chars), a.temperature, 0)  # warm-up
    rates = [run(model, a.chars, a.temperature, r) for r in range(a.repeats)]
    print('RESULT ' + json.dumps({
        'peer': 'torch', 'torch': torch.__version__, 'threads': torch.get_num_threads(), 'cell': a.cell,
        'layers': a.layers, 'hidden': a.hidden, 'embed': a.embed, 'mlp': a.mlp if a.cell == 'mingru' else 0,
        'vocab': a.vocab, 'chars': a.chars, 'chars_per_sec': round(statistics.median(rates)),
        'runs': [round(r) for r in rates],
    }))


if __name__ == '__main__':
    main()
