System.Console.WriteLine(MoeLpr.Smoke.Sum());
