// Command gomaasapi-probe drives a Kiln region with Juju's MAAS client (github.com/juju/gomaasapi,
// the v2 Controller, which checks every answer against strict schemas) the way Juju's MAAS
// provider does, and prints a JSON summary of what it read. Any error, including a schema error
// in one of Kiln's answers, is printed and exits non-zero.
//
// Usage: gomaasapi-probe -url http://region:5240/MAAS/ -key consumer:token:secret
package main

import (
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"

	"github.com/juju/gomaasapi"
)

type vlanSummary struct {
	ID     int    `json:"id"`
	Name   string `json:"name"`
	Fabric string `json:"fabric"`
	VID    int    `json:"vid"`
	MTU    int    `json:"mtu"`
	DHCP   bool   `json:"dhcp"`
}

type fabricSummary struct {
	ID        int           `json:"id"`
	Name      string        `json:"name"`
	ClassType string        `json:"classType"`
	VLANs     []vlanSummary `json:"vlans"`
}

type subnetSummary struct {
	ID         int      `json:"id"`
	Name       string   `json:"name"`
	CIDR       string   `json:"cidr"`
	Space      string   `json:"space"`
	Gateway    string   `json:"gateway"`
	DNSServers []string `json:"dnsServers"`
	VLANID     int      `json:"vlanId"`
}

type spaceSummary struct {
	ID      int             `json:"id"`
	Name    string          `json:"name"`
	Subnets []subnetSummary `json:"subnets"`
}

type linkSummary struct {
	ID        int    `json:"id"`
	Mode      string `json:"mode"`
	IPAddress string `json:"ipAddress"`
	SubnetID  int    `json:"subnetId"`
	CIDR      string `json:"cidr"`
}

type interfaceSummary struct {
	ID           int           `json:"id"`
	Name         string        `json:"name"`
	Type         string        `json:"type"`
	Enabled      bool          `json:"enabled"`
	MACAddress   string        `json:"macAddress"`
	EffectiveMTU int           `json:"effectiveMtu"`
	Parents      []string      `json:"parents"`
	Children     []string      `json:"children"`
	Tags         []string      `json:"tags"`
	VLANID       int           `json:"vlanId"`
	VID          int           `json:"vid"`
	Links        []linkSummary `json:"links"`
}

type partitionSummary struct {
	ID         int    `json:"id"`
	Path       string `json:"path"`
	Size       uint64 `json:"size"`
	UUID       string `json:"uuid"`
	FSType     string `json:"fsType"`
	MountPoint string `json:"mountPoint"`
}

type blockDeviceSummary struct {
	ID         int                `json:"id"`
	Name       string             `json:"name"`
	Model      string             `json:"model"`
	IDPath     string             `json:"idPath"`
	Path       string             `json:"path"`
	Size       uint64             `json:"size"`
	BlockSize  uint64             `json:"blockSize"`
	Tags       []string           `json:"tags"`
	Partitions []partitionSummary `json:"partitions"`
}

type machineSummary struct {
	SystemID       string               `json:"systemId"`
	Hostname       string               `json:"hostname"`
	FQDN           string               `json:"fqdn"`
	StatusName     string               `json:"statusName"`
	PowerState     string               `json:"powerState"`
	Architecture   string               `json:"architecture"`
	Memory         int                  `json:"memory"`
	CPUCount       int                  `json:"cpuCount"`
	Tags           []string             `json:"tags"`
	Zone           string               `json:"zone"`
	Pool           string               `json:"pool"`
	IPAddresses    []string             `json:"ipAddresses"`
	BootInterface  string               `json:"bootInterface"`
	Interfaces     []interfaceSummary   `json:"interfaces"`
	BlockDevices   []blockDeviceSummary `json:"blockDevices"`
	PhysicalBlocks int                  `json:"physicalBlockDevices"`
	OwnerData      map[string]string    `json:"ownerData"`
}

type deviceSummary struct {
	SystemID    string             `json:"systemId"`
	Hostname    string             `json:"hostname"`
	FQDN        string             `json:"fqdn"`
	Parent      string             `json:"parent"`
	Owner       string             `json:"owner"`
	Zone        string             `json:"zone"`
	IPAddresses []string           `json:"ipAddresses"`
	Interfaces  []interfaceSummary `json:"interfaces"`
}

type summary struct {
	Version            string            `json:"version"`
	Capabilities       []string          `json:"capabilities"`
	BootResources      []string          `json:"bootResources"`
	Fabrics            []fabricSummary   `json:"fabrics"`
	Spaces             []spaceSummary    `json:"spaces"`
	StaticRoutes       []string          `json:"staticRoutes"`
	Zones              []string          `json:"zones"`
	Pools              []string          `json:"pools"`
	PoolsError         string            `json:"poolsError"`
	Domains            []string          `json:"domains"`
	Tags               []string          `json:"tags"`
	Machines           []machineSummary  `json:"machines"`
	ByTag              []string          `json:"machinesByTag"`
	ByZone             []string          `json:"machinesByZoneAndPool"`
	NoMatch            bool              `json:"impossibleAllocationIsNoMatch"`
	Children           []string          `json:"allocatedMachineDevices"`
	MissingFileNoMatch bool              `json:"missingFileIsNoMatch"`
	Allocated          map[string]any    `json:"allocated"`
	Released           []string          `json:"released"`
	Devices            []deviceSummary   `json:"devices"`
	Created            *deviceSummary    `json:"createdDevice"`
	CreatedIface       *interfaceSummary `json:"createdInterface"`
	DeviceDeleted      bool              `json:"deviceDeleted"`
	Files              []string          `json:"files"`
	FileContent        string            `json:"fileContent"`
	FileURL            string            `json:"fileAnonymousUrl"`
}

func fail(step string, err error) {
	fmt.Fprintf(os.Stderr, "%s: %v\n", step, err)
	os.Exit(1)
}

func vlanOf(v gomaasapi.VLAN) vlanSummary {
	if v == nil {
		return vlanSummary{}
	}
	return vlanSummary{ID: v.ID(), Name: v.Name(), Fabric: v.Fabric(), VID: v.VID(), MTU: v.MTU(), DHCP: v.DHCP()}
}

func subnetOf(s gomaasapi.Subnet) subnetSummary {
	out := subnetSummary{ID: s.ID(), Name: s.Name(), CIDR: s.CIDR(), Space: s.Space(), Gateway: s.Gateway(), DNSServers: s.DNSServers()}
	if s.VLAN() != nil {
		out.VLANID = s.VLAN().ID()
	}
	return out
}

func interfaceOf(i gomaasapi.Interface) interfaceSummary {
	out := interfaceSummary{
		ID: i.ID(), Name: i.Name(), Type: i.Type(), Enabled: i.Enabled(), MACAddress: i.MACAddress(),
		EffectiveMTU: i.EffectiveMTU(), Parents: i.Parents(), Children: i.Children(), Tags: i.Tags(),
		Links: []linkSummary{},
	}
	if v := i.VLAN(); v != nil {
		out.VLANID = v.ID()
		out.VID = v.VID()
	}
	for _, l := range i.Links() {
		ls := linkSummary{ID: l.ID(), Mode: l.Mode(), IPAddress: l.IPAddress()}
		if s := l.Subnet(); s != nil {
			ls.SubnetID = s.ID()
			ls.CIDR = s.CIDR()
		}
		out.Links = append(out.Links, ls)
	}
	return out
}

func partitionOf(p gomaasapi.Partition) partitionSummary {
	out := partitionSummary{ID: p.ID(), Path: p.Path(), Size: p.Size(), UUID: p.UUID()}
	if fs := p.FileSystem(); fs != nil {
		out.FSType = fs.Type()
		out.MountPoint = fs.MountPoint()
	}
	return out
}

func machineOf(m gomaasapi.Machine) machineSummary {
	out := machineSummary{
		SystemID: m.SystemID(), Hostname: m.Hostname(), FQDN: m.FQDN(), StatusName: m.StatusName(),
		PowerState: m.PowerState(), Architecture: m.Architecture(), Memory: m.Memory(), CPUCount: m.CPUCount(),
		Tags: m.Tags(), IPAddresses: m.IPAddresses(), OwnerData: m.OwnerData(),
		Interfaces: []interfaceSummary{}, BlockDevices: []blockDeviceSummary{},
	}
	if z := m.Zone(); z != nil {
		out.Zone = z.Name()
	}
	if p := m.Pool(); p != nil {
		out.Pool = p.Name()
	}
	if b := m.BootInterface(); b != nil {
		out.BootInterface = b.Name()
	}
	for _, i := range m.InterfaceSet() {
		out.Interfaces = append(out.Interfaces, interfaceOf(i))
		if m.Interface(i.ID()) == nil {
			fail("machine.Interface", fmt.Errorf("%s: interface %d not found by id", m.SystemID(), i.ID()))
		}
	}
	for _, b := range m.BlockDevices() {
		bs := blockDeviceSummary{
			ID: b.ID(), Name: b.Name(), Model: b.Model(), IDPath: b.IDPath(), Path: b.Path(), Size: b.Size(),
			BlockSize: b.BlockSize(), Tags: b.Tags(), Partitions: []partitionSummary{},
		}
		for _, p := range b.Partitions() {
			bs.Partitions = append(bs.Partitions, partitionOf(p))
			if m.Partition(p.ID()) == nil {
				fail("machine.Partition", fmt.Errorf("%s: partition %d not found by id", m.SystemID(), p.ID()))
			}
		}
		out.BlockDevices = append(out.BlockDevices, bs)
	}
	out.PhysicalBlocks = len(m.PhysicalBlockDevices())
	return out
}

func deviceOf(d gomaasapi.Device) deviceSummary {
	out := deviceSummary{
		SystemID: d.SystemID(), Hostname: d.Hostname(), FQDN: d.FQDN(), Parent: d.Parent(), Owner: d.Owner(),
		IPAddresses: d.IPAddresses(), Interfaces: []interfaceSummary{},
	}
	if z := d.Zone(); z != nil {
		out.Zone = z.Name()
	}
	for _, i := range d.InterfaceSet() {
		out.Interfaces = append(out.Interfaces, interfaceOf(i))
	}
	return out
}

func main() {
	url := flag.String("url", "", "region URL (http://host:port/MAAS/)")
	key := flag.String("key", "", "API key consumer:token:secret")
	tag := flag.String("tag", "", "tag constraint for allocation")
	zone := flag.String("zone", "", "zone constraint for allocation")
	pool := flag.String("pool", "", "pool constraint for allocation")
	space := flag.String("space", "", "space constraint (interfaces) for allocation")
	minMemory := flag.Int("min-memory", 0, "memory constraint (MiB) for allocation")
	storageGB := flag.Int("storage-gb", 0, "root disk constraint (GB) for allocation")
	distroSeries := flag.String("distro-series", "", "deploy the allocated machine with this release before releasing it")
	deviceMAC := flag.String("device-mac", "", "MAC address of the device to create")
	ifaceMAC := flag.String("device-iface-mac", "", "MAC address of a second interface on that device")
	flag.Parse()

	ctl, err := gomaasapi.NewController(gomaasapi.ControllerArgs{BaseURL: *url, APIKey: *key})
	if err != nil {
		fail("NewController", err)
	}
	var s summary
	version, _, err := ctl.APIVersionInfo()
	if err != nil {
		fail("APIVersionInfo", err)
	}
	s.Version = version
	s.Capabilities = ctl.Capabilities().SortedValues()

	resources, err := ctl.BootResources()
	if err != nil {
		fail("BootResources", err)
	}
	s.BootResources = []string{}
	for _, r := range resources {
		s.BootResources = append(s.BootResources, fmt.Sprintf("%s/%s", r.Name(), r.Architecture()))
	}

	fabrics, err := ctl.Fabrics()
	if err != nil {
		fail("Fabrics", err)
	}
	s.Fabrics = []fabricSummary{}
	for _, f := range fabrics {
		fs := fabricSummary{ID: f.ID(), Name: f.Name(), ClassType: f.ClassType(), VLANs: []vlanSummary{}}
		for _, v := range f.VLANs() {
			fs.VLANs = append(fs.VLANs, vlanOf(v))
		}
		s.Fabrics = append(s.Fabrics, fs)
	}

	spaces, err := ctl.Spaces()
	if err != nil {
		fail("Spaces", err)
	}
	s.Spaces = []spaceSummary{}
	for _, sp := range spaces {
		ss := spaceSummary{ID: sp.ID(), Name: sp.Name(), Subnets: []subnetSummary{}}
		for _, sn := range sp.Subnets() {
			ss.Subnets = append(ss.Subnets, subnetOf(sn))
		}
		s.Spaces = append(s.Spaces, ss)
	}

	routes, err := ctl.StaticRoutes()
	if err != nil {
		fail("StaticRoutes", err)
	}
	s.StaticRoutes = []string{}
	for _, r := range routes {
		s.StaticRoutes = append(s.StaticRoutes, fmt.Sprintf("%s->%s via %s metric %d", r.Source().CIDR(), r.Destination().CIDR(), r.GatewayIP(), r.Metric()))
	}

	zones, err := ctl.Zones()
	if err != nil {
		fail("Zones", err)
	}
	s.Zones = []string{}
	for _, z := range zones {
		s.Zones = append(s.Zones, z.Name())
	}

	// gomaasapi's Pools() reads pools/, which MAAS does not have (it serves resourcepools/), so
	// against MAAS as against Kiln it answers 404: recorded, not fatal. Machines carry their pool.
	pools, err := ctl.Pools()
	if err != nil {
		s.PoolsError = err.Error()
	}
	s.Pools = []string{}
	for _, p := range pools {
		s.Pools = append(s.Pools, p.Name())
	}

	domains, err := ctl.Domains()
	if err != nil {
		fail("Domains", err)
	}
	s.Domains = []string{}
	for _, d := range domains {
		s.Domains = append(s.Domains, d.Name())
	}

	tags, err := ctl.Tags()
	if err != nil {
		fail("Tags", err)
	}
	s.Tags = []string{}
	for _, t := range tags {
		s.Tags = append(s.Tags, t.Name())
	}

	machines, err := ctl.Machines(gomaasapi.MachinesArgs{})
	if err != nil {
		fail("Machines", err)
	}
	s.Machines = []machineSummary{}
	for _, m := range machines {
		s.Machines = append(s.Machines, machineOf(m))
	}
	sort.Slice(s.Machines, func(a, b int) bool { return s.Machines[a].Hostname < s.Machines[b].Hostname })

	s.ByTag = []string{}
	if *tag != "" {
		tagged, err := ctl.Machines(gomaasapi.MachinesArgs{Tags: []string{*tag}})
		if err != nil {
			fail("Machines(tags)", err)
		}
		for _, m := range tagged {
			s.ByTag = append(s.ByTag, m.Hostname())
		}
		sort.Strings(s.ByTag)
	}

	// Filters Juju uses to find its machines: zone, pool and host names.
	inZone, err := ctl.Machines(gomaasapi.MachinesArgs{Zone: *zone, Pool: *pool})
	if err != nil {
		fail("Machines(zone, pool)", err)
	}
	s.ByZone = []string{}
	for _, m := range inZone {
		s.ByZone = append(s.ByZone, m.Hostname())
	}
	sort.Strings(s.ByZone)
	if len(s.Machines) > 0 {
		named, err := ctl.Machines(gomaasapi.MachinesArgs{Hostnames: []string{s.Machines[0].Hostname}})
		if err != nil {
			fail("Machines(hostnames)", err)
		}
		if len(named) != 1 || named[0].SystemID() != s.Machines[0].SystemID {
			fail("Machines(hostnames)", fmt.Errorf("expected %s alone, got %d machines", s.Machines[0].Hostname, len(named)))
		}
	}

	// A constraint nobody meets is a NoMatchError (409), which Juju tells apart from failures.
	_, _, err = ctl.AllocateMachine(gomaasapi.AllocateMachineArgs{MinCPUCount: 100000})
	s.NoMatch = gomaasapi.IsNoMatchError(err)

	// Allocation as Juju asks for it: constraints, an agent name, and a comment.
	args := gomaasapi.AllocateMachineArgs{MinMemory: *minMemory, Zone: *zone, Pool: *pool, AgentName: "juju-probe", Comment: "allocated by gomaasapi"}
	if *tag != "" {
		args.Tags = []string{*tag}
	}
	if *storageGB > 0 {
		args.Storage = []gomaasapi.StorageSpec{{Label: "root", Size: *storageGB}}
	}
	if *space != "" {
		args.Interfaces = []gomaasapi.InterfaceSpec{{Label: "net0", Space: *space}}
	}
	allocated, matches, err := ctl.AllocateMachine(args)
	if err != nil {
		fail("AllocateMachine", err)
	}
	matched := map[string][]int{}
	for label, ifaces := range matches.Interfaces {
		for _, i := range ifaces {
			matched["interfaces:"+label] = append(matched["interfaces:"+label], i.ID())
		}
	}
	for label, devs := range matches.Storage {
		for _, d := range devs {
			matched["storage:"+label] = append(matched["storage:"+label], d.ID())
		}
	}
	if err := allocated.SetOwnerData(map[string]string{"juju-model-uuid": "probe-model", "juju-machine-id": "0"}); err != nil {
		fail("SetOwnerData", err)
	}
	owned, err := ctl.Machines(gomaasapi.MachinesArgs{SystemIDs: []string{allocated.SystemID()}, OwnerData: map[string]string{"juju-machine-id": "0"}})
	if err != nil {
		fail("Machines(owner data)", err)
	}
	if len(owned) != 1 {
		fail("Machines(owner data)", fmt.Errorf("expected the allocated machine back, got %d", len(owned)))
	}
	s.Allocated = map[string]any{
		"systemId": allocated.SystemID(), "hostname": allocated.Hostname(), "statusName": owned[0].StatusName(),
		"matches": matched, "ownerData": owned[0].OwnerData(),
	}

	// Deploy as Juju starts a machine: a release and base64 cloud-init user data.
	if *distroSeries != "" {
		userData := base64.StdEncoding.EncodeToString([]byte("#cloud-config\n"))
		if err := allocated.Start(gomaasapi.StartArgs{DistroSeries: *distroSeries, UserData: userData, Comment: "started by gomaasapi"}); err != nil {
			fail("Machine.Start", err)
		}
		s.Allocated["startedStatusName"] = allocated.StatusName()
		s.Allocated["startedDistroSeries"] = allocated.DistroSeries()
		s.Allocated["startedOS"] = allocated.OperatingSystem()
	}

	if err := ctl.ReleaseMachines(gomaasapi.ReleaseMachinesArgs{SystemIDs: []string{allocated.SystemID()}, Comment: "released by gomaasapi"}); err != nil {
		fail("ReleaseMachines", err)
	}
	s.Released = []string{allocated.SystemID()}

	// Devices, as Juju places a container on a machine: a device with the container's first MAC,
	// that interface renamed and put on the subnet's VLAN, a second interface created, both linked
	// STATIC to the subnet (the region picks the addresses), then the device read back.
	var created gomaasapi.Device
	if *deviceMAC != "" {
		created, err = ctl.CreateDevice(gomaasapi.CreateDeviceArgs{Hostname: "juju-probe-device", MACAddresses: []string{*deviceMAC}, Parent: allocated.SystemID()})
		if err != nil {
			fail("CreateDevice", err)
		}
		if *ifaceMAC != "" {
			var subnet gomaasapi.Subnet
			for _, sp := range spaces {
				if sp.Name() == *space && len(sp.Subnets()) > 0 {
					subnet = sp.Subnets()[0]
				}
			}
			if subnet == nil {
				fail("Device interfaces", fmt.Errorf("space %q has no subnet", *space))
			}
			primary := created.InterfaceSet()[0]
			if err := primary.Update(gomaasapi.UpdateInterfaceArgs{Name: "eth0", VLAN: subnet.VLAN()}); err != nil {
				fail("Interface.Update", err)
			}
			iface, err := created.CreateInterface(gomaasapi.CreateInterfaceArgs{Name: "eth1", MACAddress: *ifaceMAC, VLAN: subnet.VLAN(), Tags: []string{"probe"}})
			if err != nil {
				fail("Device.CreateInterface", err)
			}
			for _, i := range []gomaasapi.Interface{primary, iface} {
				if err := i.LinkSubnet(gomaasapi.LinkSubnetArgs{Mode: gomaasapi.LinkModeStatic, Subnet: subnet}); err != nil {
					fail("Interface.LinkSubnet", err)
				}
			}
			is := interfaceOf(iface)
			s.CreatedIface = &is
			again, err := ctl.Devices(gomaasapi.DevicesArgs{SystemIDs: []string{created.SystemID()}})
			if err != nil || len(again) != 1 {
				fail("Devices (read back)", fmt.Errorf("%v (%d devices)", err, len(again)))
			}
			created = again[0]
		}
		cs := deviceOf(created)
		s.Created = &cs
	}
	children, err := allocated.Devices(gomaasapi.DevicesArgs{})
	if err != nil {
		fail("Machine.Devices", err)
	}
	s.Children = []string{}
	for _, d := range children {
		s.Children = append(s.Children, d.Hostname())
	}
	devices, err := ctl.Devices(gomaasapi.DevicesArgs{})
	if err != nil {
		fail("Devices", err)
	}
	s.Devices = []deviceSummary{}
	for _, d := range devices {
		s.Devices = append(s.Devices, deviceOf(d))
	}

	// Juju deletes a container's device when the container goes.
	if created != nil {
		if err := created.Delete(); err != nil {
			fail("Device.Delete", err)
		}
		gone, err := ctl.Devices(gomaasapi.DevicesArgs{SystemIDs: []string{created.SystemID()}})
		if err != nil {
			fail("Devices (after delete)", err)
		}
		s.DeviceDeleted = len(gone) == 0
	}

	// Files: Juju keeps its bootstrap state this way.
	content := []byte("provider-state: juju-probe\n")
	if err := ctl.AddFile(gomaasapi.AddFileArgs{Filename: "juju-probe-state", Content: content}); err != nil {
		fail("AddFile", err)
	}
	files, err := ctl.Files("juju-probe")
	if err != nil {
		fail("Files", err)
	}
	s.Files = []string{}
	for _, f := range files {
		s.Files = append(s.Files, f.Filename())
	}
	_, err = ctl.GetFile("juju-probe-missing")
	s.MissingFileNoMatch = gomaasapi.IsNoMatchError(err)
	file, err := ctl.GetFile("juju-probe-state")
	if err != nil {
		fail("GetFile", err)
	}
	read, err := file.ReadAll()
	if err != nil {
		fail("File.ReadAll", err)
	}
	s.FileContent = string(read)
	s.FileURL = file.AnonymousURL()

	out, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		fail("summary", err)
	}
	fmt.Println(string(out))
}
