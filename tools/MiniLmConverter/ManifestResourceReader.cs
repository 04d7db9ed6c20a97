using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace Bert.Sharp.Tools.MiniLmConverter;

/// <summary>
/// Reads a manifest resource embedded in a .NET assembly straight from the file (System.Reflection.Metadata), without
/// loading the assembly: the source package targets netstandard2.1 and depends on ONNX Runtime, none of which the build
/// needs to execute.
/// </summary>
internal static class ManifestResourceReader
{
    public static void Extract(string assemblyPath, string resourceName, string outputPath)
    {
        using FileStream file = File.OpenRead(assemblyPath);
        using var pe = new PEReader(file);
        if (!pe.HasMetadata)
        {
            throw new InvalidDataException($"'{assemblyPath}' is not a .NET assembly (no metadata).");
        }

        MetadataReader metadata = pe.GetMetadataReader();
        foreach (ManifestResourceHandle handle in metadata.ManifestResources)
        {
            ManifestResource resource = metadata.GetManifestResource(handle);
            if (!metadata.StringComparer.Equals(resource.Name, resourceName))
            {
                continue;
            }

            if (!resource.Implementation.IsNil)
            {
                throw new InvalidDataException($"Resource '{resourceName}' of '{assemblyPath}' lives in another file; only embedded resources are read.");
            }

            // Embedded resources sit in the CLI header's resources directory: a 4-byte length, then the bytes.
            DirectoryEntry directory = pe.PEHeaders.CorHeader!.ResourcesDirectory;
            PEMemoryBlock block = pe.GetSectionData(directory.RelativeVirtualAddress);
            BlobReader reader = block.GetReader((int)resource.Offset, block.Length - (int)resource.Offset);
            int length = reader.ReadInt32();
            if (length < 0 || length > reader.RemainingBytes)
            {
                throw new InvalidDataException($"Resource '{resourceName}' of '{assemblyPath}' claims {length} bytes; only {reader.RemainingBytes} remain.");
            }

            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outputPath))!);
            using var output = new FileStream(outputPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
            output.Write(reader.ReadBytes(length));
            return;
        }

        string names = string.Join(", ", metadata.ManifestResources.Select(h => metadata.GetString(metadata.GetManifestResource(h).Name)));
        throw new InvalidDataException($"'{assemblyPath}' has no resource '{resourceName}'; it has: {names}.");
    }
}
