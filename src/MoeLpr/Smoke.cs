namespace MoeLpr; public static class Smoke { public static float Sum() => TorchSharp.torch.ones(3).sum().item<float>(); }
